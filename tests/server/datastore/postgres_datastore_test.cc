// PostgreSQL-specific behaviour of PostgresDatastore (the shared contract is covered by the
// datastore_*_test.cc contract tests, which run against it too): connection errors, schema
// versions, several datastores ("replicas") on one database, the change listener and the
// change feed across replicas.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "server/datastore/change_feed.h"
#include "server/datastore/postgres_datastore.h"
#include "server/datastore/postgres_listener.h"
#include "tests/server/datastore/datastore_test_util.h"
#include "tests/server/datastore/postgres_cluster.h"
#include "trust-zones/audit_chain.h"

namespace spinel::server::testing {
namespace {

using spinel::testing::PostgresCluster;

constexpr char kAgent[] = "spiffe://control.example.org/spinel/agent/join_token/a1";

// A fresh schema shared by several datastores, dropped afterwards.
struct SharedSchema {
  PostgresCluster& cluster = PostgresCluster::Shared();
  std::string name = cluster.NewSchema();
  std::string uri = cluster.Uri(name);
  ~SharedSchema() { cluster.DropSchema(name); }
};

template <typename Pred>
bool Eventually(Pred pred, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return pred();
}

TEST_CASE("postgres: an unreachable server is Unavailable, naming the database, not the password") {
  spinel::testing::FakeClock clock;
  auto ds = PostgresDatastore::Open(
      "postgresql://spinel:s3cret-pw@/spinel?host=/nonexistent-spinel-dir&connect_timeout=2",
      clock);
  REQUIRE_FALSE(ds.ok());
  CHECK(ds.status().code() == absl::StatusCode::kUnavailable);
  CHECK(Contains(ds.status().message(), "postgres://spinel@/nonexistent-spinel-dir"));
  CHECK(Contains(ds.status().message(), "/spinel"));
  CHECK_FALSE(Contains(ds.status().message(), "s3cret"));

  auto bad = PostgresDatastore::Open("postgresql://[::1", clock);
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("postgres: a schema newer than this build is refused and left as it is") {
  SharedSchema schema;
  spinel::testing::FakeClock clock;
  OpenPostgres(schema.uri, clock);  // migrates
  schema.cluster.Admin("UPDATE " + schema.name + ".spinel_schema SET version = 99");
  auto ds = PostgresDatastore::Open(schema.uri, clock);
  REQUIRE_FALSE(ds.ok());
  CHECK(ds.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(ds.status().message(), "schema version 99"));
}

TEST_CASE("postgres: reopening keeps the data; a dropped connection is replaced") {
  SharedSchema schema;
  spinel::testing::FakeClock clock;
  std::string id;
  {
    auto first = OpenPostgres(schema.uri, clock);
    auto created = first->CreateEntry(MakeEntry("spiffe://a.org/w", kAgent, {"unix:uid:1"}));
    REQUIRE(created.ok());
    id = created->id;
  }
  auto ds = OpenPostgres(schema.uri, clock);
  REQUIRE(ds->GetEntry(id).ok());
  // The server ends every other session (as a restart does): the pooled connection is dead.
  schema.cluster.Admin(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
      "AND backend_type = 'client backend'");
  CHECK(Eventually([&] { return ds->GetEntry(id).ok(); }));
  CHECK(ds->CreateEntry(MakeEntry("spiffe://a.org/w2", kAgent, {"unix:uid:2"})).ok());
}

TEST_CASE("postgres: two datastores on one database see each other's writes, in one order") {
  SharedSchema schema;
  spinel::testing::FakeClock clock;
  auto a = OpenPostgres(schema.uri, clock);
  auto b = OpenPostgres(schema.uri, clock);

  auto created = a->CreateEntry(MakeEntry("spiffe://a.org/w", kAgent, {"unix:uid:1"}));
  REQUIRE(created.ok());
  auto seen = b->GetEntry(created->id);
  REQUIRE(seen.ok());
  CHECK(*seen == *created);
  // The identical entry is refused through the other datastore too.
  CHECK(b->CreateEntry(MakeEntry("spiffe://a.org/w", kAgent, {"unix:uid:1"})).status().code() ==
        absl::StatusCode::kAlreadyExists);

  // Concurrent writers on both: every change gets its own revision, and both read one log.
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      Datastore& ds = t % 2 == 0 ? static_cast<Datastore&>(*a) : *b;
      for (int i = 0; i < 10; ++i) {
        const std::string uid = std::to_string(100 + t * 10 + i);
        if (!ds.CreateEntry(MakeEntry("spiffe://a.org/c", kAgent, {("unix:uid:" + uid).c_str()}))
                 .ok()) {
          ++failures;
        }
        if (!ds.AppendAuditEvent(Audit("test.concurrent")).ok()) ++failures;
      }
    });
  }
  for (std::thread& w : writers) w.join();
  CHECK(failures == 0);
  auto changes_a = a->ListChanges(0, 0);
  auto changes_b = b->ListChanges(0, 0);
  REQUIRE(changes_a.ok());
  REQUIRE(changes_b.ok());
  CHECK(changes_a->size() == 41);
  CHECK(*changes_a == *changes_b);
  CHECK(a->CurrentRevision().value() == changes_a->back().revision);
  // The audit chain stayed one chain across both writers.
  auto events = b->ListAuditEvents({});
  REQUIRE(events.ok());
  CHECK(events->size() == 40);
  auto head = zones::VerifyChain(*events);
  CHECK_MESSAGE(head.ok(), std::string(head.status().message()));
}

TEST_CASE("postgres: a join token is consumed once across datastores") {
  SharedSchema schema;
  spinel::testing::FakeClock clock;
  auto a = OpenPostgres(schema.uri, clock);
  auto b = OpenPostgres(schema.uri, clock);
  REQUIRE(a->CreateJoinToken("tok-1", Id(kAgent), 1'800'000'600).ok());
  std::atomic<int> consumed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      Datastore& ds = t % 2 == 0 ? static_cast<Datastore&>(*a) : *b;
      if (ds.ConsumeJoinToken("tok-1").ok()) ++consumed;
    });
  }
  for (std::thread& t : threads) t.join();
  CHECK(consumed == 1);
}

TEST_CASE("postgres: the change listener hears another datastore's commits, not rollbacks") {
  SharedSchema schema;
  spinel::testing::FakeClock clock;
  auto writer = OpenPostgres(schema.uri, clock);
  std::atomic<int> calls{0};
  PgChangeListener listener(schema.uri, "test", [&] { ++calls; });
  REQUIRE(Eventually([&] { return listener.connected() && calls >= 1; }));  // first connect
  const int64_t before = listener.batches();

  // A refused write (identical entry) commits nothing and notifies nobody.
  REQUIRE(writer->CreateEntry(MakeEntry("spiffe://a.org/w", kAgent, {"unix:uid:1"})).ok());
  REQUIRE(Eventually([&] { return listener.batches() > before; }));
  const int64_t after_create = listener.batches();
  CHECK_FALSE(writer->CreateEntry(MakeEntry("spiffe://a.org/w", kAgent, {"unix:uid:1"})).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(listener.batches() == after_create);

  // After its connection is killed the listener reconnects, calls back once, and hears again.
  const int calls_before = calls;
  schema.cluster.Admin(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'LISTEN%'");
  REQUIRE(Eventually([&] { return calls > calls_before && listener.connected(); }));
  const int64_t batches = listener.batches();
  REQUIRE(writer->SetAgentBanned(Id(kAgent), true).status().code() == absl::StatusCode::kNotFound);
  REQUIRE(writer->DeleteEntry(writer->ListEntries({}, {}).value().entries[0].id).ok());
  CHECK(Eventually([&] { return listener.batches() > batches; }));
  listener.Stop();
  CHECK_FALSE(listener.connected());
}

TEST_CASE("postgres: a change through one datastore reaches another's change feed once") {
  SharedSchema schema;
  spinel::testing::FakeClock clock;
  auto a = OpenPostgres(schema.uri, clock);
  auto b = OpenPostgres(schema.uri, clock);
  auto feed = ChangeFeed::Start(*b, {});
  REQUIRE(feed.ok());
  spinel::common::Mutex mutex;
  std::vector<ChangeEvent> seen;
  (*feed)->Subscribe([&](const ChangeBatch& batch) {
    spinel::common::MutexLock lock(mutex);
    seen.insert(seen.end(), batch.events.begin(), batch.events.end());
  });
  auto count = [&] {
    spinel::common::MutexLock lock(mutex);
    return seen.size();
  };

  auto created = a->CreateEntry(MakeEntry("spiffe://a.org/w", kAgent, {"unix:uid:1"}));
  REQUIRE(created.ok());
  REQUIRE(Eventually([&] { return count() >= 1; }));
  // Refused through A (identical entry): rolled back, nothing reaches B.
  CHECK_FALSE(a->CreateEntry(MakeEntry("spiffe://a.org/w", kAgent, {"unix:uid:1"})).ok());
  // B's own write and A's next one, in one order.
  REQUIRE(b->CreateAttestedAgent(MakeAgent(kAgent)).ok());
  REQUIRE(a->DeleteEntry(created->id).ok());
  REQUIRE(Eventually([&] { return (*feed)->delivered_revision() == 3; }));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // nothing more comes
  spinel::common::MutexLock lock(mutex);
  REQUIRE(seen.size() == 3);
  CHECK(seen[0] == ChangeEvent{1, ChangeKind::kEntry, created->id, false, {kAgent}});
  CHECK(seen[1] == ChangeEvent{2, ChangeKind::kAgent, kAgent, false, {}});
  CHECK(seen[2] == ChangeEvent{3, ChangeKind::kEntry, created->id, true, {kAgent}});
}

}  // namespace
}  // namespace spinel::server::testing
