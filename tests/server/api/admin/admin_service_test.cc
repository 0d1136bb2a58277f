// The admin service (server/admin_service*.cc) over real components and a real gRPC channel
// on a Unix socket: entries, agents, join tokens, health and the socket itself. Bundles,
// minting and local authorities are in admin_service_authorities_test.cc.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <fstream>

#include "server/api/agent/node_attestation.h"
#include "tests/server/api/admin/admin_harness.h"

using spinel::server::AdminHooks;
using spinel::server::AttestedAgent;
using spinel::server::StartAdminServer;
using spinel::server::testing::AdminHarness;
using spinel::server::testing::kAgentId;
using spinel::server::testing::kInferenceId;
using spinel::server::testing::kToolsId;
using spinel::server::testing::UnavailableDatastore;
using Stub = spinel::v1::AdminService::Stub;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

spinel::v1::CreateEntriesResponse CreateBatch(AdminHarness& h,
                                              const std::vector<spinel::v1::Entry>& entries) {
  spinel::v1::CreateEntriesRequest request;
  for (const spinel::v1::Entry& entry : entries) *request.add_entries() = entry;
  spinel::v1::CreateEntriesResponse response;
  REQUIRE(h.Call(&Stub::CreateEntries, request, &response).ok());
  REQUIRE(response.results_size() == static_cast<int>(entries.size()));
  return response;
}

}  // namespace

TEST_CASE("admin: entry create, get, list, count, update and delete round trip") {
  AdminHarness h;
  spinel::v1::Entry wanted = AdminHarness::MakeEntry(kInferenceId);
  wanted.set_x509_svid_ttl_seconds(1800);
  wanted.add_dns_names("model.example.org");
  spinel::v1::Entry created = h.Create(wanted);
  CHECK_FALSE(created.id().empty());
  CHECK(created.zone() == "inference.ai.example.org");
  CHECK(created.x509_svid_ttl_seconds() == 1800);
  CHECK(created.revision_number() == 0);

  spinel::v1::EntryIdRequest by_id;
  by_id.set_id(created.id());
  spinel::v1::Entry got;
  REQUIRE(h.Call(&Stub::GetEntry, by_id, &got).ok());
  CHECK(got.spiffe_id() == kInferenceId);
  CHECK(got.selectors(0).value() == "uid:1000");

  spinel::v1::ListEntriesRequest filter;
  filter.set_by_zone("inference");  // a zone name works as well as a trust domain
  spinel::v1::ListEntriesResponse list;
  REQUIRE(h.Call(&Stub::ListEntries, filter, &list).ok());
  CHECK(list.entries_size() == 1);
  filter.set_by_zone("training.ai.example.org");
  list.Clear();
  REQUIRE(h.Call(&Stub::ListEntries, filter, &list).ok());
  CHECK(list.entries_size() == 0);
  CHECK(h.Count() == 1);

  spinel::v1::UpdateEntryRequest update;
  *update.mutable_entry() = got;
  update.mutable_entry()->set_x509_svid_ttl_seconds(600);
  spinel::v1::Entry updated;
  REQUIRE(h.Call(&Stub::UpdateEntry, update, &updated).ok());
  CHECK(updated.x509_svid_ttl_seconds() == 600);
  CHECK(updated.revision_number() == 1);

  spinel::v1::Empty empty;
  REQUIRE(h.Call(&Stub::DeleteEntry, by_id, &empty).ok());
  CHECK(h.Call(&Stub::GetEntry, by_id, &got).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(h.Call(&Stub::DeleteEntry, by_id, &empty).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(h.Count() == 0);
}

TEST_CASE("admin: a batch reports each entry's own status and writes only the good ones") {
  AdminHarness h;
  spinel::v1::Entry bad_id = AdminHarness::MakeEntry("spiffe://inference.ai.example.org/a//b");
  spinel::v1::Entry bad_selector = AdminHarness::MakeEntry(kInferenceId);
  bad_selector.mutable_selectors(0)->set_type("Unix!");
  spinel::v1::Entry above_cap = AdminHarness::MakeEntry(kToolsId);
  above_cap.set_x509_svid_ttl_seconds(3600);  // tool-execution caps X509-SVIDs at 15m
  spinel::v1::Entry unknown_zone = AdminHarness::MakeEntry("spiffe://elsewhere.example.org/w");
  spinel::v1::Entry foreign_parent = AdminHarness::MakeEntry(kInferenceId, "2000");
  foreign_parent.set_parent_id("spiffe://inference.ai.example.org/agent");
  spinel::v1::Entry negative_ttl = AdminHarness::MakeEntry(kInferenceId, "3000");
  negative_ttl.set_jwt_svid_ttl_seconds(-5);
  spinel::v1::Entry good = AdminHarness::MakeEntry(kToolsId);

  auto response = CreateBatch(
      h, {bad_id, bad_selector, above_cap, unknown_zone, foreign_parent, negative_ttl, good});
  const int kInvalid = static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(response.results(0).error_code() == kInvalid);
  CHECK(Contains(response.results(0).error(), "spiffe_id:"));
  CHECK(response.results(1).error_code() == kInvalid);
  CHECK(Contains(response.results(1).error(), "selectors[0]:"));
  CHECK(response.results(2).error_code() == kInvalid);
  CHECK(Contains(response.results(2).error(), "cap"));
  CHECK(response.results(3).error_code() == kInvalid);
  CHECK(Contains(response.results(3).error(), "elsewhere.example.org"));
  CHECK(response.results(4).error_code() == kInvalid);
  CHECK(Contains(response.results(4).error(), "control trust domain"));
  CHECK(response.results(5).error_code() == kInvalid);
  CHECK(Contains(response.results(5).error(), "jwt_svid_ttl_seconds"));
  CHECK(response.results(6).error_code() == 0);
  CHECK(response.results(2).entry().spiffe_id() == kToolsId);  // failed results echo the entry
  CHECK(h.Count() == 1);

  SUBCASE("the same entry twice is AlreadyExists") {
    auto again = CreateBatch(h, {good});
    CHECK(again.results(0).error_code() == static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
    CHECK(h.Count() == 1);
  }
}

TEST_CASE("admin: malformed requests are InvalidArgument naming the field") {
  AdminHarness h;
  spinel::v1::CreateEntriesResponse created;
  CHECK(h.Call(&Stub::CreateEntries, spinel::v1::CreateEntriesRequest(), &created).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);

  spinel::v1::UpdateEntryRequest update;
  *update.mutable_entry() = AdminHarness::MakeEntry(kInferenceId);
  spinel::v1::Entry entry;
  grpc::Status status = h.Call(&Stub::UpdateEntry, update, &entry);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(status.error_message(), "entry.id"));
  update.mutable_entry()->set_id("no-such-entry");
  CHECK(h.Call(&Stub::UpdateEntry, update, &entry).error_code() == grpc::StatusCode::NOT_FOUND);

  spinel::v1::ListEntriesRequest filter;
  filter.set_by_spiffe_id("spiffe://UPPER.example.org/x");
  spinel::v1::ListEntriesResponse list;
  status = h.Call(&Stub::ListEntries, filter, &list);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(status.error_message(), "by_spiffe_id"));

  spinel::v1::AgentIdRequest agent;
  agent.set_spiffe_id("not a spiffe id");
  spinel::v1::Agent got;
  status = h.Call(&Stub::GetAgent, agent, &got);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(status.error_message(), "spiffe_id"));
  CHECK(h.Count() == 0);
}

TEST_CASE("admin: join tokens use the configured default TTL and attest once") {
  AdminHarness h;
  spinel::v1::CreateJoinTokenResponse token;
  REQUIRE(h.Call(&Stub::CreateJoinToken, spinel::v1::CreateJoinTokenRequest(), &token).ok());
  CHECK(token.token().size() == 64);
  CHECK(token.expires_at() == spinel::common::ToUnixSeconds(h.fixture.clock.Now()) + 600);
  auto attested = spinel::server::AttestJoinToken(*h.fixture.datastore, token.token());
  REQUIRE(attested.ok());
  CHECK(attested->agent_id.ToString() == token.agent_spiffe_id());
  CHECK_FALSE(spinel::server::AttestJoinToken(*h.fixture.datastore, token.token()).ok());

  spinel::v1::CreateJoinTokenRequest request;
  request.set_ttl_seconds(60);
  request.set_agent_path("rack-7");
  REQUIRE(h.Call(&Stub::CreateJoinToken, request, &token).ok());
  CHECK(token.agent_spiffe_id() == "spiffe://spinel.ai.example.org/spinel/agent/join_token/rack-7");
  CHECK(token.expires_at() == spinel::common::ToUnixSeconds(h.fixture.clock.Now()) + 60);

  request.set_agent_path("a/b");
  CHECK(h.Call(&Stub::CreateJoinToken, request, &token).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
  request.set_agent_path("");
  request.set_ttl_seconds(-1);
  CHECK(h.Call(&Stub::CreateJoinToken, request, &token).error_code() ==
        grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE("admin: agents are listed, shown, banned and evicted") {
  AdminHarness h;
  auto agent_id = spinel::common::SpiffeId::Parse(kAgentId);
  REQUIRE(agent_id.ok());
  AttestedAgent record{.spiffe_id = *agent_id,
                       .attestation_type = "join_token",
                       .serial_number = "01",
                       .svid_expires_at = 1'900'000'000};
  REQUIRE(h.fixture.datastore->CreateAttestedAgent(record).ok());

  spinel::v1::ListAgentsResponse agents;
  REQUIRE(h.Call(&Stub::ListAgents, spinel::v1::Empty(), &agents).ok());
  REQUIRE(agents.agents_size() == 1);
  CHECK(agents.agents(0).spiffe_id() == kAgentId);

  spinel::v1::AgentIdRequest request;
  request.set_spiffe_id(kAgentId);
  spinel::v1::Empty empty;
  REQUIRE(h.Call(&Stub::BanAgent, request, &empty).ok());
  spinel::v1::Agent agent;
  REQUIRE(h.Call(&Stub::GetAgent, request, &agent).ok());
  CHECK(agent.banned());

  REQUIRE(h.Call(&Stub::EvictAgent, request, &empty).ok());
  CHECK(h.Call(&Stub::GetAgent, request, &agent).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(h.Call(&Stub::EvictAgent, request, &empty).error_code() == grpc::StatusCode::NOT_FOUND);
  CHECK(h.Call(&Stub::BanAgent, request, &empty).error_code() == grpc::StatusCode::NOT_FOUND);
}

TEST_CASE("admin: health reports readiness, version and counts") {
  AdminHarness h;
  h.Create(AdminHarness::MakeEntry(kInferenceId));
  spinel::v1::HealthResponse health;
  REQUIRE(h.Call(&Stub::Health, spinel::v1::Empty(), &health).ok());
  CHECK(health.ready());
  CHECK_FALSE(health.version().empty());
  CHECK(health.entries() == 1);
  CHECK(health.agents() == 0);
}

TEST_CASE("admin: datastore failures come back as Unavailable") {
  UnavailableDatastore down;
  AdminHarness h(&down);
  spinel::v1::CountResponse count;
  CHECK(h.Call(&Stub::CountEntries, spinel::v1::ListEntriesRequest(), &count).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  spinel::v1::HealthResponse health;
  CHECK(h.Call(&Stub::Health, spinel::v1::Empty(), &health).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
}

TEST_CASE("admin: the socket is private, replaces a stale socket and refuses others") {
  AdminHarness h;
  struct stat info {};
  REQUIRE(::stat(h.socket_path.c_str(), &info) == 0);
  CHECK(S_ISSOCK(info.st_mode));
  CHECK((info.st_mode & 0777) == 0600);

  std::unique_ptr<grpc::Service> service;
  auto second = StartAdminServer(h.deps, AdminHooks{}, h.socket_path, &service);
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);  // still served

  const std::string stale = h.fixture.dir + "/stale.sock";
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof(address.sun_path), "%s", stale.c_str());
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  ::close(fd);  // bound, never listened: a left-over socket file
  auto replaced = StartAdminServer(h.deps, AdminHooks{}, stale, &service);
  REQUIRE_MESSAGE(replaced.ok(), replaced.status().ToString());
  (*replaced)->Shutdown();

  const std::string regular = h.fixture.dir + "/not-a-socket";
  std::ofstream(regular) << "keep me";
  auto refused = StartAdminServer(h.deps, AdminHooks{}, regular, &service);
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::ifstream(regular).good());
}
