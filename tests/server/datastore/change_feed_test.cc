// ChangeFeed (server/datastore/change_feed.h) and the change events it reads, on every backend:
// every committed change delivered once, in revision order, with the parents of entry changes;
// nothing for a failed write; concurrent writers; local events; a pruned log asks for a
// resync. The replica case (a change through one PostgreSQL datastore reaching another's feed)
// is in postgres_datastore_test.cc.
#include "server/datastore/change_feed.h"

#include <doctest/doctest.h>

#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/server/datastore/datastore_test_util.h"

namespace spinel::server::testing {
namespace {

constexpr char kAgentA[] = "spiffe://control.example.org/spinel/agent/join_token/a";
constexpr char kAgentB[] = "spiffe://control.example.org/spinel/agent/join_token/b";

// Collects what a feed delivers.
class Recorder {
 public:
  explicit Recorder(ChangeFeed& feed) {
    feed.Subscribe([this](const ChangeBatch& batch) {
      std::lock_guard<std::mutex> lock(mutex_);
      batches_.push_back(batch);
      for (const ChangeEvent& e : batch.events) events_.push_back(e);
    });
  }
  std::vector<ChangeEvent> events() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }
  std::vector<ChangeBatch> batches() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return batches_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<ChangeEvent> events_;
  std::vector<ChangeBatch> batches_;
};

// Waits until the feed delivered the datastore's current revision.
void AwaitDelivered(ChangeFeed& feed, Datastore& ds) {
  const int64_t current = *ds.CurrentRevision();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (feed.delivered_revision() < current && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(feed.delivered_revision() == current);
}

std::unique_ptr<ChangeFeed> StartFeed(Datastore& ds, ChangeFeedOptions options = {}) {
  auto feed = ChangeFeed::Start(ds, std::move(options));
  REQUIRE_MESSAGE(feed.ok(), std::string(feed.status().message()));
  return *std::move(feed);
}

FederationRelationship Relationship() {
  FederationRelationship r;
  r.trust_domain = Td("partner.example.com");
  r.bundle_endpoint_url = "https://bundles.partner.example.com/";
  r.profile = "https_web";
  return r;
}

TEST_CASE_TEMPLATE("change feed: every committed change once, in order, with entry parents", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.CreateEntry(MakeEntry("spiffe://inference.example.org/old", kAgentA, {"u:0"})).ok());
  auto feed = StartFeed(ds);  // from the current revision: the entry above is not delivered
  Recorder recorder(*feed);

  auto created = ds.CreateEntry(MakeEntry("spiffe://inference.example.org/w", kAgentA, {"u:1"}));
  REQUIRE(created.ok());
  // Refused writes (an identical entry, a stale bundle) commit nothing and deliver nothing.
  CHECK_FALSE(ds.CreateEntry(MakeEntry("spiffe://inference.example.org/w", kAgentA, {"u:1"})).ok());
  RegistrationEntry moved = *created;
  moved.parent_id = Id(kAgentB);
  REQUIRE(ds.UpdateEntry(moved).ok());
  REQUIRE(ds.DeleteEntry(created->id).ok());
  REQUIRE(ds.CreateAttestedAgent(MakeAgent(kAgentA)).ok());
  REQUIRE(ds.SetBundle({Td("inference.example.org"), R"({"keys":[]})", 2, 0}).ok());
  CHECK_FALSE(ds.SetBundle({Td("inference.example.org"), R"({"keys":[]})", 1, 0}).ok());
  REQUIRE(ds.CreateFederationRelationship(Relationship(), std::nullopt).ok());
  // Join tokens and audit events are not changes the feed carries.
  REQUIRE(ds.CreateJoinToken("t", Id(kAgentA), 1'900'000'000).ok());
  REQUIRE(ds.AppendAuditEvent(Audit("test")).ok());
  AwaitDelivered(*feed, ds);

  const std::vector<ChangeEvent> events = recorder.events();
  REQUIRE(events.size() == 6);
  for (size_t i = 0; i < events.size(); ++i) CHECK(events[i].revision == int64_t(i) + 2);
  CHECK(events[0] == ChangeEvent{2, ChangeKind::kEntry, created->id, false, {kAgentA}});
  CHECK(events[1] == ChangeEvent{3, ChangeKind::kEntry, created->id, false, {kAgentA, kAgentB}});
  CHECK(events[2] == ChangeEvent{4, ChangeKind::kEntry, created->id, true, {kAgentB}});
  CHECK(events[3] == ChangeEvent{5, ChangeKind::kAgent, kAgentA, false, {}});
  CHECK(events[4] == ChangeEvent{6, ChangeKind::kBundle, "inference.example.org", false, {}});
  CHECK(events[5] == ChangeEvent{7, ChangeKind::kFederation, "partner.example.com", false, {}});
  for (const ChangeBatch& batch : recorder.batches()) CHECK_FALSE(batch.resync);
  // The log holds the same events.
  CHECK(*ds.ListChangeEvents(1, 0) == events);
  CHECK(ds.ListChangeEvents(1, 2)->size() == 2);
}

TEST_CASE_TEMPLATE("change feed: concurrent writers' changes arrive once each, in order", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  auto feed = StartFeed(ds);
  Recorder recorder(*feed);
  constexpr int kThreads = 4;
  constexpr int kEach = 15;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        const std::string uid = "u:" + std::to_string(t * 100 + i);
        ds.CreateEntry(MakeEntry("spiffe://inference.example.org/c", kAgentA, {uid.c_str()}))
            .IgnoreError();
      }
    });
  }
  for (std::thread& w : writers) w.join();
  AwaitDelivered(*feed, ds);
  const std::vector<ChangeEvent> events = recorder.events();
  REQUIRE(events.size() == kThreads * kEach);
  for (size_t i = 0; i < events.size(); ++i) CHECK(events[i].revision == int64_t(i) + 1);
}

TEST_CASE("change feed: local events are delivered with revision 0") {
  SqliteMemoryBackend backend;
  auto feed = StartFeed(*backend.store);
  Recorder recorder(*feed);
  feed->PublishLocal(ChangeEvent{.revision = 42, .kind = ChangeKind::kZones});
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (recorder.events().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  REQUIRE(recorder.events().size() == 1);
  CHECK(recorder.events()[0].kind == ChangeKind::kZones);
  CHECK(recorder.events()[0].revision == 0);
  CHECK(feed->delivered_revision() == 0);
}

TEST_CASE("change log: superseded history is pruned; a reader that fell behind resyncs") {
  SqliteMemoryBackend backend;
  Datastore& ds = *backend.store;
  const common::TrustDomain td = Td("inference.example.org");
  REQUIRE(ds.CreateEntry(MakeEntry("spiffe://inference.example.org/kept", kAgentA, {"u:1"})).ok());
  const int64_t writes = kChangeEventRetention + 1'000;
  for (int64_t i = 1; i <= writes; ++i) {
    REQUIRE(ds.SetBundle({td, R"({"keys":[],"n":)" + std::to_string(i) + "}", i, 0}).ok());
  }
  const int64_t current = *ds.CurrentRevision();
  CHECK(current == writes + 1);
  auto events = ds.ListChangeEvents(0, 0);
  REQUIRE(events.ok());
  CHECK(events->size() < static_cast<size_t>(current));  // pruned
  CHECK(events->front().revision == 1);                  // the entry's only event is kept
  CHECK(events->back().revision == current);
  auto changes = ds.ListChanges(0, 0);  // still complete: each object's latest change
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 2);
  CHECK((*changes)[1] == Change{current, ChangeKind::kBundle, td.name(), false});

  auto behind = StartFeed(ds, {.since = 0, .page_size = 500});
  Recorder recorder(*behind);
  AwaitDelivered(*behind, ds);
  const std::vector<ChangeBatch> batches = recorder.batches();
  REQUIRE_FALSE(batches.empty());
  CHECK(batches.front().resync);
  behind->Stop();

  auto current_feed = StartFeed(ds);  // one that keeps up never resyncs
  Recorder recent(*current_feed);
  REQUIRE(ds.SetBundle({td, R"({"keys":[],"n":"last"})", writes + 1, 0}).ok());
  AwaitDelivered(*current_feed, ds);
  REQUIRE(recent.batches().size() == 1);
  CHECK_FALSE(recent.batches()[0].resync);
}

}  // namespace
}  // namespace spinel::server::testing
