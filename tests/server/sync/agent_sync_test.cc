// What each agent is served (AgentView, server/sync/agent_sync.cc) and the push of changes on the
// Sync stream (server/sync/sync_stream.cc) over real TLS gRPC: exactly the agent's own entries and
// those of node aliases it matches, placement and expiry, every bundle, and one update per
// change with increasing revisions.
#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <thread>

#include "tests/server/api/agent/agent_api_harness.h"

using spinel::server::AgentViewData;
using spinel::server::AttestedAgent;
using spinel::server::RegistrationEntry;
using namespace spinel::server::testing;
using namespace std::chrono_literals;

namespace {

constexpr char kGpuAlias[] = "spiffe://spinel.ai.example.org/nodes/gpu";
constexpr char kServerId[] = "spiffe://spinel.ai.example.org/spinel/server";

RegistrationEntry Create(ServerFixture& f, RegistrationEntry entry) {
  auto created = f.registry->Create(std::move(entry));
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  return *created;
}

std::set<std::string> SpiffeIds(const AgentViewData& view) {
  std::set<std::string> ids;
  for (const RegistrationEntry& entry : view.entries) ids.insert(entry.spiffe_id.ToString());
  return ids;
}

std::set<std::string> EntryIds(const spinel::v1::SyncUpdate& update) {
  std::set<std::string> ids;
  for (const spinel::v1::Entry& entry : update.entries()) ids.insert(entry.id());
  return ids;
}

}  // namespace

TEST_CASE("agent view: exactly the agent's entries and those of node aliases it matches") {
  ServerFixture f;
  AttestedAgent gpu = StoreAgent(*f.datastore, kFixtureAgent, {"x509pop:subject:cn:gpu"});
  AttestedAgent plain = StoreAgent(*f.datastore, kFixtureOtherAgent);
  RegistrationEntry alias = Entry(kGpuAlias, kServerId);
  alias.selectors = Selectors({"x509pop:subject:cn:gpu"});
  Create(f, alias);
  Create(f, Entry(kModelServer, kFixtureAgent));
  Create(f, Entry("spiffe://retrieval.ai.example.org/retriever", kGpuAlias));
  Create(f, Entry(kToolRunner, kFixtureOtherAgent));
  RegistrationEntry expired = Entry("spiffe://training.ai.example.org/old", kFixtureAgent);
  expired.expires_at = spinel::common::ToUnixSeconds(f.clock.Now() + 1min);
  Create(f, expired);

  auto view = f.view->Compute(gpu);
  REQUIRE_MESSAGE(view.ok(), view.status().ToString());
  CHECK(SpiffeIds(*view) == std::set<std::string>{kModelServer,
                                                  "spiffe://retrieval.ai.example.org/retriever",
                                                  "spiffe://training.ai.example.org/old"});
  REQUIRE(view->bundles.size() == 5);  // the control plane first, then the four zones
  CHECK(view->bundles[0].trust_domain() == "spinel.ai.example.org");
  CHECK(Contains(view->policy, "\"inference\""));

  auto other = f.view->Compute(plain);
  REQUIRE(other.ok());
  CHECK(SpiffeIds(*other) == std::set<std::string>{kToolRunner});

  f.clock.Advance(2min);  // the training entry expired
  view = f.view->Compute(gpu);
  REQUIRE(view.ok());
  CHECK(view->entries.size() == 2);
}

TEST_CASE("agent view: entries of zones the agent's node may not host are not served") {
  TempDirectory zones;
  ServerFixture f(PinnedOptions(zones, "inference.yaml", {"x509pop:subject:cn:tpu"}));
  AttestedAgent gpu = StoreAgent(*f.datastore, kFixtureAgent, {"x509pop:subject:cn:gpu"});
  // Entries made before the agent attested (placement is checked when the parent is known).
  RegistrationEntry model = Entry(kModelServer, kFixtureAgent);
  model.zone = "inference.ai.example.org";
  REQUIRE(f.datastore->CreateEntry(model).ok());
  Create(f, Entry(kToolRunner, kFixtureAgent));
  auto view = f.view->Compute(gpu);
  REQUIRE(view.ok());
  CHECK(SpiffeIds(*view) == std::set<std::string>{kToolRunner});
  auto model_entry = f.datastore->ListEntries({.spiffe_id = Id(kModelServer)}, {});
  REQUIRE((model_entry.ok() && model_entry->entries.size() == 1));
  auto parents = f.view->ParentIdsOf(gpu);
  REQUIRE(parents.ok());
  CHECK(*parents == std::vector<spinel::common::SpiffeId>{Id(kFixtureAgent)});
  CHECK_FALSE(f.view->Authorizes(gpu, *parents, model_entry->entries[0]));
  auto tool_entry = f.datastore->ListEntries({.spiffe_id = Id(kToolRunner)}, {});
  REQUIRE((tool_entry.ok() && tool_entry->entries.size() == 1));
  CHECK(f.view->Authorizes(gpu, *parents, tool_entry->entries[0]));
}

TEST_CASE("agent view: datastore errors are returned, not an empty view") {
  ServerFixture f;
  UnavailableDatastore down;
  spinel::server::AgentView view(down, *f.zones, *f.cas, f.config.trust_domain, f.clock);
  AttestedAgent agent{.spiffe_id = Id(kFixtureAgent)};
  CHECK(view.Compute(agent).status().code() == absl::StatusCode::kUnavailable);
  CHECK(view.ParentIdsOf(agent).status().code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("sync: a full snapshot, then one update per change with increasing revisions") {
  AgentApiHarness h;
  AgentClient agent = h.AttestNewAgent();
  AgentClient other = h.AttestNewAgent();
  RegistrationEntry first = Create(h.fixture, Entry(kModelServer, agent.id.ToString()));

  auto context = AgentApiHarness::Context();
  auto reader = agent.stub->Sync(context.get(), spinel::v1::SyncRequest());
  spinel::v1::SyncUpdate update;
  REQUIRE(reader->Read(&update));
  CHECK(update.full_snapshot());
  CHECK(EntryIds(update) == std::set<std::string>{first.id});
  CHECK(update.bundles_size() == 5);
  CHECK_FALSE(update.policy().empty());
  int64_t revision = update.revision();
  CHECK(revision > 0);

  // A change for another agent sends nothing; the next message is about this agent's entry.
  Create(h.fixture, Entry(kToolRunner, other.id.ToString()));
  RegistrationEntry second = Create(h.fixture, Entry(kToolRunner, agent.id.ToString()));
  REQUIRE(reader->Read(&update));
  CHECK_FALSE(update.full_snapshot());
  CHECK(EntryIds(update) == std::set<std::string>{second.id});
  CHECK(update.bundles_size() == 0);
  CHECK(update.policy().empty());
  CHECK(update.revision() > revision);
  revision = update.revision();

  RegistrationEntry changed = second;
  changed.x509_svid_ttl = 300;
  REQUIRE(h.fixture.registry->Update(changed).ok());
  REQUIRE(reader->Read(&update));
  REQUIRE(update.entries_size() == 1);
  CHECK(update.entries(0).x509_svid_ttl_seconds() == 300);
  CHECK(update.entries(0).revision_number() == 1);
  CHECK(update.revision() > revision);
  revision = update.revision();

  REQUIRE(h.fixture.registry->Delete(first.id).ok());
  REQUIRE(reader->Read(&update));
  CHECK(update.entries_size() == 0);
  CHECK(std::set<std::string>(update.removed_entry_ids().begin(),
                              update.removed_entry_ids().end()) == std::set<std::string>{first.id});
  CHECK(update.revision() > revision);

  // A rotation step publishes a new bundle: only that bundle is pushed.
  REQUIRE(h.fixture.cas->Prepare(Td("inference.ai.example.org")).ok());
  REQUIRE(reader->Read(&update));
  REQUIRE(update.bundles_size() == 1);
  CHECK(update.bundles(0).trust_domain() == "inference.ai.example.org");

  // Evicted: the stream ends with PERMISSION_DENIED.
  // (Its change event wakes the stream through the fixture's change feed.)
  REQUIRE(h.fixture.datastore->DeleteAttestedAgent(agent.id).ok());
  CHECK_FALSE(reader->Read(&update));
  grpc::Status ended = reader->Finish();
  CHECK(ended.error_code() == grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("sync: refused without a valid agent SVID") {
  AgentApiHarness h;
  std::unique_ptr<AgentStub> anonymous = h.Stub();
  auto context = AgentApiHarness::Context();
  auto reader = anonymous->Sync(context.get(), spinel::v1::SyncRequest());
  spinel::v1::SyncUpdate update;
  CHECK_FALSE(reader->Read(&update));
  CHECK(reader->Finish().error_code() == grpc::StatusCode::UNAUTHENTICATED);
}
