// Federated bundles in what an agent is served (AgentView, server/sync/agent_sync.cc;
// server/bundles/federated_bundles.h): the stored bundle of every foreign trust domain that a zone
// of the agent's entries federates with, and only those; the policy document's federates_with;
// stored, replaced and deleted bundles reaching the Sync stream; the control-plane check.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/bundle.h"
#include "tests/fakes/test_ca.h"
#include "tests/server/api/agent/agent_api_harness.h"

using spinel::server::AgentViewData;
using spinel::server::AttestedAgent;
using spinel::server::BundleRecord;
using spinel::server::RegistrationEntry;
using namespace spinel::server::testing;
using namespace std::chrono_literals;

namespace {

constexpr char kPartner[] = "partner.example.com";
constexpr char kOther[] = "other.example.com";
constexpr char kUnrelated[] = "unrelated.example.com";

// A copy of the shipped zones in `dir` with `extra` (zone file -> YAML lines) appended.
std::string ZonesWith(const TempDirectory& dir, const std::map<std::string, std::string>& extra) {
  namespace fs = std::filesystem;
  const fs::path out = fs::path(dir.path()) / "zones";
  fs::create_directories(out);
  for (const fs::directory_entry& file : fs::directory_iterator(ShippedZonesDir())) {
    std::ifstream in(file.path());
    std::stringstream text;
    text << in.rdbuf();
    auto more = extra.find(file.path().filename().string());
    std::ofstream(out / file.path().filename())
        << text.str() << (more == extra.end() ? "" : "\n" + more->second + "\n");
  }
  return out.string();
}

ServerFixtureOptions FederatingOptions(const TempDirectory& dir) {
  ServerFixtureOptions options;
  options.zones_dir =
      ZonesWith(dir, {{"inference.yaml",
                       "federates_with: [partner.example.com, "
                       "missing.example.com]"},
                      {"tool-execution.yaml", "federates_with: [other.example.com]"}});
  return options;
}

// A valid SPIFFE bundle of `td` (a fresh root) with sequence `sequence`.
std::string ForeignBundleJson(const char* td, uint64_t sequence, spinel::common::TimePoint now) {
  spinel::testing::TestCa ca = spinel::testing::TestCa::Root(td, now);
  spinel::common::Bundle bundle;
  bundle.trust_domain = ca.td();
  bundle.x509_authorities = {ca.root()};
  bundle.sequence = sequence;
  absl::StatusOr<std::string> json = bundle.ToJson();
  REQUIRE(json.ok());
  return *json;
}

void Store(spinel::server::Datastore& datastore, const char* td, const std::string& json,
           int64_t sequence) {
  absl::StatusOr<BundleRecord> stored = datastore.SetBundle(
      BundleRecord{.trust_domain = Td(td), .bundle_json = json, .sequence = sequence});
  REQUIRE_MESSAGE(stored.ok(), stored.status().ToString());
}

// trust domain -> jwks of the view's bundles.
std::map<std::string, std::string> BundlesOf(const AgentViewData& view) {
  std::map<std::string, std::string> out;
  for (const auto& bundle : view.bundles) out.emplace(bundle.trust_domain(), bundle.jwks());
  return out;
}

AgentViewData ComputeView(ServerFixture& f, const AttestedAgent& agent) {
  absl::StatusOr<AgentViewData> view = f.view->Compute(agent);
  REQUIRE_MESSAGE(view.ok(), view.status().ToString());
  return *view;
}

void CreateEntry(ServerFixture& f, const std::string& spiffe_id, const std::string& parent) {
  auto created = f.registry->Create(Entry(spiffe_id, parent));
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
}

}  // namespace

TEST_CASE("agent view: foreign bundles go exactly to agents with entries of federating zones") {
  TempDirectory dir;
  ServerFixture f(FederatingOptions(dir));
  AttestedAgent inference = StoreAgent(*f.datastore, kFixtureAgent);
  AttestedAgent tools = StoreAgent(*f.datastore, kFixtureOtherAgent);
  AttestedAgent idle =
      StoreAgent(*f.datastore, "spiffe://spinel.ai.example.org/spinel/agent/join_token/n3");
  CreateEntry(f, kModelServer, kFixtureAgent);
  CreateEntry(f, "spiffe://training.ai.example.org/trainer", kFixtureAgent);
  CreateEntry(f, kToolRunner, kFixtureOtherAgent);
  const std::string partner = ForeignBundleJson(kPartner, 7, f.clock.Now());
  Store(*f.datastore, kPartner, partner, 7);
  Store(*f.datastore, kOther, ForeignBundleJson(kOther, 1, f.clock.Now()), 1);
  Store(*f.datastore, kUnrelated, ForeignBundleJson(kUnrelated, 1, f.clock.Now()), 1);

  AgentViewData view = ComputeView(f, inference);
  REQUIRE(view.bundles.size() == 6);  // control plane, four zones, then partner only
  CHECK(view.bundles[0].trust_domain() == "spinel.ai.example.org");
  CHECK(view.bundles[5].trust_domain() == kPartner);
  CHECK(view.bundles[5].jwks() == partner);
  CHECK(view.bundles[5].sequence() == 7);
  CHECK(BundlesOf(view).count(kOther) == 0);      // tool-execution's, no entry of it here
  CHECK(BundlesOf(view).count(kUnrelated) == 0);  // stored, but no zone federates with it
  CHECK(BundlesOf(view).count("missing.example.com") == 0);  // federated, nothing stored

  const std::map<std::string, std::string> tool_bundles = BundlesOf(ComputeView(f, tools));
  CHECK(tool_bundles.count(kOther) == 1);
  CHECK(tool_bundles.count(kPartner) == 0);
  CHECK(BundlesOf(ComputeView(f, idle)).size() == 5);

  // The policy document says which zone federates with what.
  CHECK(Contains(
      view.policy,
      R"("federates_with":["partner.example.com","missing.example.com"],"name":"inference")"));
  CHECK(Contains(view.policy, R"("federates_with":[],"name":"retrieval")"));

  // A stored bundle that does not parse is not sent (the agent would refuse the whole update).
  Store(*f.datastore, kPartner, R"({"keys":[{"kty":"EC","use":"x509-svid","x5c":"AA"}]})", 8);
  CHECK(BundlesOf(ComputeView(f, inference)).count(kPartner) == 0);
  const std::string replaced = ForeignBundleJson(kPartner, 9, f.clock.Now());
  Store(*f.datastore, kPartner, replaced, 9);
  CHECK(BundlesOf(ComputeView(f, inference)).at(kPartner) == replaced);
  // Deleted (the relationship went): no longer sent.
  REQUIRE(f.datastore->DeleteBundle(Td(kPartner)).ok());
  CHECK(BundlesOf(ComputeView(f, inference)).count(kPartner) == 0);
  CHECK(BundlesOf(ComputeView(f, inference)).size() == 5);
}

TEST_CASE("agent view: a zone federating with the control-plane trust domain is refused") {
  TempDirectory dir;
  spinel::server::ServerConfig config;
  config.trust_domain = Td("spinel.ai.example.org");
  config.zones_dir = ZonesWith(
      dir, {{"retrieval.yaml", "federates_with: [ok.example.com, spinel.ai.example.org]"}});
  absl::StatusOr<spinel::server::ZoneGeneration> loaded =
      spinel::server::LoadZoneGeneration(config);
  REQUIRE_FALSE(loaded.ok());
  CHECK(loaded.status().code() == absl::StatusCode::kInvalidArgument);
  CAPTURE(loaded.status().ToString());
  CHECK(Contains(loaded.status().message(), "retrieval.yaml:"));
  CHECK(Contains(loaded.status().message(),
                 "federates_with: \"spinel.ai.example.org\" is the control-plane trust domain"));
}

TEST_CASE("sync: a federated bundle stored, replaced and deleted reaches the agent's stream") {
  TempDirectory dir;
  AgentApiHarness h("", 10000, FederatingOptions(dir));
  AgentClient agent = h.AttestNewAgent();
  CreateEntry(h.fixture, kModelServer, agent.id.ToString());

  auto context = AgentApiHarness::Context();
  auto reader = agent.stub->Sync(context.get(), spinel::v1::SyncRequest());
  spinel::v1::SyncUpdate update;
  REQUIRE(reader->Read(&update));
  CHECK(update.full_snapshot());
  CHECK(update.bundles_size() == 5);
  CHECK(Contains(update.policy(), "\"federates_with\":[\"partner.example.com\""));

  // Stored (a federation relationship's first fetch; the change feed wakes the stream): pushed
  // alone.
  const std::string partner = ForeignBundleJson(kPartner, 3, h.fixture.clock.Now());
  Store(*h.fixture.datastore, kPartner, partner, 3);
  Store(*h.fixture.datastore, kUnrelated, ForeignBundleJson(kUnrelated, 1, h.fixture.clock.Now()),
        1);
  REQUIRE(reader->Read(&update));
  CHECK_FALSE(update.full_snapshot());
  REQUIRE(update.bundles_size() == 1);
  CHECK(update.bundles(0).trust_domain() == kPartner);
  CHECK(update.bundles(0).jwks() == partner);
  CHECK(update.entries_size() == 0);

  // Refreshed with a higher sequence: the new one is pushed.
  const std::string refreshed = ForeignBundleJson(kPartner, 4, h.fixture.clock.Now());
  Store(*h.fixture.datastore, kPartner, refreshed, 4);
  REQUIRE(reader->Read(&update));
  REQUIRE(update.bundles_size() == 1);
  CHECK(update.bundles(0).jwks() == refreshed);

  // Deleted with the relationship: the agent is told to drop it.
  REQUIRE(h.fixture.datastore->DeleteBundle(Td(kPartner)).ok());
  REQUIRE(reader->Read(&update));
  CHECK(update.bundles_size() == 0);
  CHECK(std::vector<std::string>(update.removed_trust_domains().begin(),
                                 update.removed_trust_domains().end()) ==
        std::vector<std::string>{kPartner});
  context->TryCancel();
}
