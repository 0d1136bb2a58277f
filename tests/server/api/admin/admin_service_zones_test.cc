// The admin service's zone RPCs (ListZones, GetZone, ReloadZones) over real components and a
// real gRPC channel (admin_harness.h); reloads edit a copy of the shipped zones.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tests/server/api/admin/admin_harness.h"

using spinel::server::testing::AdminHarness;
using spinel::server::testing::kInferenceId;
using spinel::server::testing::ServerFixtureOptions;
using spinel::server::testing::ShippedZonesDir;
using spinel::server::testing::TempDirectory;
using Stub = spinel::v1::AdminService::Stub;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

spinel::v1::ZoneInfo GetZone(AdminHarness& h, const std::string& name) {
  spinel::v1::ZoneNameRequest request;
  request.set_name(name);
  spinel::v1::ZoneInfo zone;
  grpc::Status status = h.Call(&Stub::GetZone, request, &zone);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  return zone;
}

// Replaces the first `from` in `path` by `to`.
void Edit(const std::string& path, const std::string& from, const std::string& to) {
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  std::string content = text.str();
  size_t at = content.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  std::ofstream(path, std::ios::trunc) << content.replace(at, from.size(), to);
}

std::vector<std::string> Strings(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return {items.begin(), items.end()};
}

}  // namespace

TEST_CASE("admin zones: list shows every zone with TTLs, symmetric peers, rules, CA and entries") {
  AdminHarness h;
  h.Create(AdminHarness::MakeEntry(kInferenceId));
  h.Create(AdminHarness::MakeEntry("spiffe://inference.ai.example.org/other", "1001"));
  spinel::v1::ListZonesResponse list;
  REQUIRE(h.Call(&Stub::ListZones, spinel::v1::Empty(), &list).ok());
  REQUIRE(list.zones_size() == 4);
  std::vector<std::string> names;
  for (const auto& zone : list.zones()) names.push_back(zone.name());
  CHECK(names == std::vector<std::string>{"inference", "retrieval", "tool-execution", "training"});
  const spinel::v1::ZoneInfo& inference = list.zones(0);
  CHECK(inference.trust_domain() == "inference.ai.example.org");
  CHECK(inference.x509_svid_ttl_default_seconds() == 1800);
  CHECK(inference.x509_svid_ttl_max_seconds() == 3600);
  CHECK(inference.jwt_svid_ttl_max_seconds() == 600);
  CHECK(inference.ca_ttl_seconds() == 12 * 3600);
  CHECK(inference.entries() == 2);
  CHECK(list.zones(1).entries() == 0);
  // tool-execution lists only inference; retrieval too: peers are symmetric.
  CHECK(Strings(inference.peers()) == std::vector<std::string>{"retrieval", "tool-execution"});
  CHECK(Strings(list.zones(3).peers()).empty());
  // Rules in file order with their one-line text.
  const spinel::v1::ZoneInfo& tools = list.zones(2);
  REQUIRE(tools.rules_size() == 8);
  CHECK(tools.rules(0).id() == "tool-execution/production-deploys");
  CHECK(tools.rules(0).approval_required());
  CHECK(Contains(tools.rules(0).text(), "tool:deploy.*"));
  CHECK(tools.rules(3).id() == "tool-execution/mcp-production-deploys");
  CHECK(tools.rules(7).effect() == "deny");
  // CA state as GetLocalAuthorities reports it.
  CHECK(tools.authorities().trust_domain() == "tools.ai.example.org");
  int active = 0;
  for (const auto& authority : tools.authorities().authorities()) {
    active += authority.state() == "active" ? 1 : 0;
  }
  CHECK(active == 3);  // one X.509 CA, one JWT key and one WIT-SVID key
}

TEST_CASE("admin zones: get one zone; an unknown name is NOT_FOUND naming it") {
  AdminHarness h;
  spinel::v1::ZoneInfo training = GetZone(h, "training");
  CHECK(training.trust_domain() == "training.ai.example.org");
  CHECK(training.rules(4).id() == "training/no-tools");
  CHECK(training.nodes_size() == 0);

  spinel::v1::ZoneNameRequest request;
  spinel::v1::ZoneInfo zone;
  request.set_name("finance");
  grpc::Status missing = h.Call(&Stub::GetZone, request, &zone);
  CHECK(missing.error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(Contains(missing.error_message(), "\"finance\""));
  request.set_name("");
  CHECK(h.Call(&Stub::GetZone, request, &zone).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("admin zones: reload applies a valid edit and refuses an invalid one whole") {
  TempDirectory copy;
  const std::string dir = copy.path() + "/zones";
  std::filesystem::copy(ShippedZonesDir(), dir);
  AdminHarness h(nullptr, ServerFixtureOptions{.zones_dir = dir});

  Edit(dir + "/training.yaml", "nodes: []", "nodes: [x509pop:subject:ou:gpu]");
  spinel::v1::ReloadZonesResponse reloaded;
  grpc::Status status = h.Call(&Stub::ReloadZones, spinel::v1::Empty(), &reloaded);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(Strings(reloaded.changed()) == std::vector<std::string>{"training"});
  CHECK(reloaded.added().empty());
  CHECK(reloaded.zones_size() == 4);
  spinel::v1::ZoneInfo training = GetZone(h, "training");
  REQUIRE(training.nodes_size() == 1);
  CHECK(training.nodes(0).type() == "x509pop");
  CHECK(training.nodes(0).value() == "subject:ou:gpu");

  Edit(dir + "/training.yaml", "ca_ttl: 24h", "ca_ttl: 1h");  // below 2 x the max SVID TTL
  spinel::v1::ReloadZonesResponse refused;
  status = h.Call(&Stub::ReloadZones, spinel::v1::Empty(), &refused);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_MESSAGE(Contains(status.error_message(), dir + "/training.yaml:"), status.error_message());
  CHECK(Contains(status.error_message(), "ca_ttl"));
  CHECK(GetZone(h, "training").ca_ttl_seconds() == 24 * 3600);
  CHECK(GetZone(h, "training").nodes_size() == 1);
}
