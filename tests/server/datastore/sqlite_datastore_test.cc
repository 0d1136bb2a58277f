// SQLite-specific behaviour of SqliteDatastore: file settings, schema versions, durability
// across SIGKILL, read-only files, a full disk, indexes, several connections, bad rows. The
// behaviour every backend shares is in datastore_*_test.cc.
#include "server/datastore/sqlite_datastore.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "server/datastore/sqlite_db.h"
#include "server/datastore/sqlite_migrations.h"
#include "tests/server/datastore/datastore_test_util.h"

namespace spinel::server::testing {
namespace {

using spinel::testing::FakeClock;

constexpr char kAgent[] = "spiffe://control.example.org/spinel/agent/join_token/a1";

// Runs `body` in a forked child and returns the child's wait status. The child must not use
// doctest assertions; it reports through its exit code (0 = as expected) and stderr.
int RunInChild(const std::function<int()>& body) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(body());
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

int ChildFail(int code, const absl::Status& status) {
  fprintf(stderr, "child check %d failed: %s\n", code, std::string(status.ToString()).c_str());
  return code;
}

SqliteDb OpenRaw(const std::string& path) {
  auto db = SqliteDb::Open(path, {});
  REQUIRE_MESSAGE(db.ok(), std::string(db.status().message()));
  return *std::move(db);
}

RegistrationEntry NamedEntry(const std::string& id) {
  RegistrationEntry e = MakeEntry("spiffe://inference.example.org/" + id, kAgent, {"unix:uid:1"});
  e.id = id;
  return e;
}

TEST_CASE("sqlite: a new file is WAL, fsyncs every commit, has the latest schema, keeps data") {
  TempDir dir;
  FakeClock clock;
  const std::string path = dir.File("spinel.db");
  {
    auto ds = OpenSqlite(path, clock);
    CHECK_FALSE(ds->is_read_only());
    CHECK(*ds->QueryIntForTest("PRAGMA synchronous") == 2);  // FULL
    CHECK(*ds->QueryIntForTest("PRAGMA foreign_keys") == 1);
    CHECK(*ds->QueryIntForTest("PRAGMA busy_timeout") == 5000);
    REQUIRE(ds->CreateEntry(NamedEntry("kept")).ok());
    REQUIRE(ds->CreateJoinToken("t", Id(kAgent), 1'900'000'000).ok());
  }
  {
    SqliteDb raw = OpenRaw(path);
    CHECK(*raw.QueryText("PRAGMA journal_mode") == "wal");
    CHECK(*raw.QueryInt("PRAGMA user_version") == LatestSqliteSchemaVersion());
    CHECK(*raw.QueryText("PRAGMA integrity_check") == "ok");
    // Only the hash of a join token is on disk.
    CHECK(*raw.QueryInt("SELECT COUNT(*) FROM join_tokens WHERE token_hash = 't'") == 0);
  }
  auto ds = OpenSqlite(path, clock);
  CHECK(ds->GetEntry("kept").ok());
  CHECK(ds->ConsumeJoinToken("t").ok());
  CHECK(*ds->CurrentRevision() == 1);
}

TEST_CASE("sqlite: a database written by a newer build is refused, unchanged") {
  TempDir dir;
  FakeClock clock;
  const std::string path = dir.File("spinel.db");
  { OpenSqlite(path, clock)->CreateEntry(NamedEntry("kept")).IgnoreError(); }
  { REQUIRE(OpenRaw(path).Exec("PRAGMA user_version = 99").ok()); }
  auto refused = SqliteDatastore::Open(path, clock);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(refused.status().message(), "schema version 99, newer than version " +
                                                 std::to_string(LatestSqliteSchemaVersion())));
  CHECK(Contains(refused.status().message(), path));
  CHECK(*OpenRaw(path).QueryInt("PRAGMA user_version") == 99);
}

TEST_CASE("sqlite migrations: applied in order in one transaction; a failure applies nothing") {
  TempDir dir;
  const std::string path = dir.File("m.db");
  SqliteDb db = OpenRaw(path);
  const SqliteMigration two[] = {
      {1, "create", "CREATE TABLE t (x INTEGER) STRICT;"},
      {2, "seed", "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);"}};
  REQUIRE(ApplySqliteMigrations(db, two).ok());
  CHECK(*db.QueryInt("PRAGMA user_version") == 2);
  CHECK(ApplySqliteMigrations(db, two).ok());  // idempotent
  CHECK(*db.QueryInt("SELECT COUNT(*) FROM t") == 2);

  const SqliteMigration broken[] = {two[0],
                                    two[1],
                                    {3, "add column", "ALTER TABLE t ADD COLUMN y INTEGER;"},
                                    {4, "typo", "INSERT INTO missing VALUES (1);"}};
  absl::Status status = ApplySqliteMigrations(db, broken);
  CHECK_FALSE(status.ok());
  CHECK(Contains(status.message(), "applying schema migration 4 (typo)"));
  CHECK(Contains(status.message(), "no such table: missing"));
  CHECK(*db.QueryInt("PRAGMA user_version") == 2);
  CHECK_FALSE(db.Prepare("SELECT y FROM t").ok());  // migration 3 rolled back too
  CHECK_FALSE(db.InTransaction());

  const SqliteMigration gap[] = {two[0], {3, "gap", "SELECT 1;"}};
  CHECK(ApplySqliteMigrations(db, gap).code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("sqlite: a database of the previous schema keeps its change history when migrated") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  {
    SqliteDb db = OpenRaw(path);
    // The schema before change events (version 3): one change-log record per object.
    REQUIRE(ApplySqliteMigrations(db, SqliteSchemaMigrations().first(3)).ok());
    REQUIRE(db.Exec("INSERT INTO change_log (revision, kind, object_id, deleted) VALUES "
                    "(7, 'bundle', 'inference.example.org', 0)")
                .ok());
  }
  FakeClock clock;
  auto ds = OpenSqlite(path, clock);
  CHECK(*ds->QueryIntForTest("PRAGMA user_version") == LatestSqliteSchemaVersion());
  CHECK(*ds->CurrentRevision() == 7);
  REQUIRE(ds->CreateEntry(NamedEntry("after")).ok());
  auto changes = ds->ListChanges(0, 0);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 2);
  CHECK((*changes)[0] == Change{7, ChangeKind::kBundle, "inference.example.org", false});
  CHECK((*changes)[1] == Change{8, ChangeKind::kEntry, "after", false});
  CHECK(ds->ListChangeEvents(7, 0)->at(0).parent_ids == std::vector<std::string>{kAgent});
}

TEST_CASE("sqlite: acknowledged writes survive SIGKILL right after the call returns") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  {
    FakeClock clock;
    auto ds = OpenSqlite(path, clock);
    REQUIRE(ds->CreateJoinToken("tok", Id(kAgent), 1'900'000'000).ok());
  }
  std::vector<RegistrationEntry> entries;  // built before fork: the child asserts nothing
  for (int i = 0; i < 20; ++i) entries.push_back(NamedEntry("durable-" + std::to_string(i)));
  const AttestedAgent agent = MakeAgent(kAgent);

  const int status = RunInChild([&] {
    FakeClock clock;
    auto ds = SqliteDatastore::Open(path, clock);
    if (!ds.ok()) return ChildFail(1, ds.status());
    for (const RegistrationEntry& e : entries) {
      auto r = (*ds)->CreateEntry(e);
      if (!r.ok()) return ChildFail(2, r.status());
    }
    if (auto r = (*ds)->ConsumeJoinToken("tok"); !r.ok()) return ChildFail(3, r.status());
    if (auto r = (*ds)->CreateAttestedAgent(agent); !r.ok()) return ChildFail(4, r.status());
    if (auto r = (*ds)->AppendAuditEvent(Audit("last")); !r.ok()) return ChildFail(5, r.status());
    kill(getpid(), SIGKILL);  // no destructors, no close, no checkpoint
    return 6;
  });
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  FakeClock clock;
  auto ds = OpenSqlite(path, clock);
  CHECK(*ds->CountEntries({}) == 20);
  CHECK(ds->GetEntry("durable-19").ok());
  CHECK(Contains(ds->ConsumeJoinToken("tok").status().message(), "already used"));
  CHECK(ds->GetAttestedAgent(Id(kAgent)).ok());
  REQUIRE(ds->ListAuditEvents({})->size() == 1);
  CHECK(ds->ListAuditEvents({})->front().kind == "last");
}

// A database with one entry and one bundle, closed cleanly.
void Seed(const std::string& path) {
  FakeClock clock;
  auto ds = OpenSqlite(path, clock);
  REQUIRE(ds->CreateEntry(NamedEntry("kept")).ok());
  REQUIRE(ds->SetBundle({Td("inference.example.org"), R"({"keys":[]})", 1, 0}).ok());
}

void CheckSeedIntact(const std::string& path) {
  CHECK(*OpenRaw(path).QueryText("PRAGMA integrity_check") == "ok");
  FakeClock clock;
  auto ds = OpenSqlite(path, clock);
  CHECK(*ds->CountEntries({}) == 1);
  CHECK(ds->GetEntry("kept").ok());
  CHECK(ds->GetBundle(Td("inference.example.org"))->sequence == 1);
  CHECK(*ds->CurrentRevision() == 2);
}

TEST_CASE("sqlite: opened read-only, reads work and writes fail naming the file") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  Seed(path);
  FakeClock clock;
  {
    auto ro = OpenSqlite(path, clock, {.read_only = true});
    CHECK(ro->is_read_only());
    CHECK(ro->GetEntry("kept").ok());
    CHECK(ro->ListEntries({}, {})->entries.size() == 1);
    const absl::Status writes[] = {
        ro->CreateEntry(NamedEntry("new")).status(), ro->DeleteEntry("kept").status(),
        ro->ConsumeJoinToken("x").status(), ro->AppendAuditEvent(Audit("x")).status(),
        ro->SetAgentBanned(Id(kAgent), true).status()};
    for (const absl::Status& w : writes) {
      CAPTURE(w.ToString());
      CHECK(w.code() == absl::StatusCode::kUnavailable);
      CHECK(Contains(w.message(), path));
      CHECK(Contains(w.message(), "readonly"));
    }
  }
  CheckSeedIntact(path);
}

TEST_CASE("sqlite: a file the process cannot write opens read-only; reads keep working") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  Seed(path);
  REQUIRE(chmod(path.c_str(), 0444) == 0);
  REQUIRE(chmod(dir.path().c_str(), 0777) == 0);  // SQLite may still create -shm/-wal
  const int status = RunInChild([&] {
    // Root ignores file modes; drop to "nobody" so the modes apply.
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 1;
    FakeClock clock;
    auto ds = SqliteDatastore::Open(path, clock);
    if (!ds.ok()) return ChildFail(2, ds.status());
    if (!(*ds)->is_read_only()) return 3;
    if (auto r = (*ds)->GetEntry("kept"); !r.ok()) return ChildFail(4, r.status());
    auto w = (*ds)->CreateEntry(NamedEntry("new"));
    if (w.status().code() != absl::StatusCode::kUnavailable) return ChildFail(5, w.status());
    if (!Contains(w.status().message(), path)) return ChildFail(6, w.status());
    return 0;
  });
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CheckSeedIntact(path);
}

TEST_CASE("sqlite: a read-only WAL database in a read-only directory is a clear open error") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  Seed(path);
  REQUIRE(chmod(path.c_str(), 0444) == 0);
  REQUIRE(chmod(dir.path().c_str(), 0555) == 0);
  const int status = RunInChild([&] {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) return 1;
    FakeClock clock;
    auto ds = SqliteDatastore::Open(path, clock);
    if (ds.ok()) return 2;
    if (ds.status().code() != absl::StatusCode::kUnavailable) return ChildFail(3, ds.status());
    if (!Contains(ds.status().message(), "-shm")) return ChildFail(4, ds.status());
    if (!Contains(ds.status().message(), path)) return ChildFail(5, ds.status());
    return 0;
  });
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CheckSeedIntact(path);
}

TEST_CASE("sqlite: a full disk fails the write cleanly; reads keep working; nothing corrupts") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  Seed(path);
  const std::string big = R"({"keys":[],"pad":")" + std::string(2 << 20, 'x') + "\"}";
  const int status = RunInChild([&] {
    signal(SIGXFSZ, SIG_IGN);  // a write past the limit then fails with EFBIG
    FakeClock clock;
    auto ds = SqliteDatastore::Open(path, clock);
    if (!ds.ok()) return ChildFail(1, ds.status());
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return 2;
    const rlim_t limit = static_cast<rlim_t>(st.st_size) + 64 * 1024;
    const rlimit rl{limit, limit};
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return 3;
    auto w = (*ds)->SetBundle({Td("inference.example.org"), big, 2, 0});
    if (w.status().code() != absl::StatusCode::kUnavailable) return ChildFail(4, w.status());
    if (!Contains(w.status().message(), path)) return ChildFail(5, w.status());
    fprintf(stderr, "full disk reported as: %s\n", std::string(w.status().message()).c_str());
    if (auto r = (*ds)->GetEntry("kept"); !r.ok()) return ChildFail(6, r.status());
    auto b = (*ds)->GetBundle(Td("inference.example.org"));
    if (!b.ok() || b->sequence != 1) return ChildFail(7, b.status());
    return 0;
  });
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CheckSeedIntact(path);
}

std::string QueryPlan(SqliteDb& db, const std::string& sql) {
  auto stmt = db.Prepare("EXPLAIN QUERY PLAN " + sql);
  REQUIRE(stmt.ok());
  std::string plan;
  while (*stmt->Step()) plan += stmt->ColumnText(3) + "\n";
  return plan;
}

TEST_CASE("sqlite: entry lookups by parent and by SPIFFE ID use indexes") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  Seed(path);
  SqliteDb db = OpenRaw(path);
  const std::string select = "SELECT * FROM registration_entries WHERE ";
  CHECK(Contains(QueryPlan(db, select + "parent_id = 'p'"), "INDEX registration_entries_parent"));
  CHECK(Contains(QueryPlan(db, select + "parent_id IN (SELECT value FROM json_each('[1]'))"),
                 "INDEX registration_entries_parent"));
  CHECK(Contains(QueryPlan(db, select + "spiffe_id = 's'"), "INDEX registration_entries_identity"));
  CHECK(Contains(QueryPlan(db, select + "zone = 'z'"), "INDEX registration_entries_zone"));
}

TEST_CASE("sqlite: several connections to one file consume each join token exactly once") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  FakeClock clock;
  constexpr int kConnections = 4;
  constexpr int kTokens = 10;
  std::vector<std::unique_ptr<SqliteDatastore>> stores;
  for (int i = 0; i < kConnections; ++i) stores.push_back(OpenSqlite(path, clock));
  for (int t = 0; t < kTokens; ++t) {
    REQUIRE(stores[0]->CreateJoinToken("tok" + std::to_string(t), Id(kAgent), 1'900'000'000).ok());
  }
  std::atomic<int> wins[kTokens] = {};
  std::atomic<int> other_errors = 0;
  std::vector<std::thread> threads;
  for (auto& store : stores) {
    threads.emplace_back([&, ds = store.get()] {
      for (int t = 0; t < kTokens; ++t) {
        auto r = ds->ConsumeJoinToken("tok" + std::to_string(t));
        if (r.ok()) {
          ++wins[t];
        } else if (r.status().code() != absl::StatusCode::kFailedPrecondition) {
          ++other_errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kTokens; ++t) CHECK(wins[t].load() == 1);
  CHECK(other_errors.load() == 0);
}

TEST_CASE("sqlite: a corrupted row is DataLoss naming the entry") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  FakeClock clock;
  auto ds = OpenSqlite(path, clock);
  REQUIRE(ds->CreateEntry(NamedEntry("c1")).ok());
  REQUIRE(OpenRaw(path).Exec("UPDATE registration_entries SET selectors = '[\"nocolon\"]'").ok());
  auto got = ds->GetEntry("c1");
  CHECK(got.status().code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(got.status().message(), "entry \"c1\""));
  CHECK(ds->ListEntries({}, {}).status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("sqlite: audit rows are append-only; an edited or removed row fails verification") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  FakeClock clock;
  auto ds = OpenSqlite(path, clock);
  for (const char* outcome : {"ALLOW", "DENY", "ALLOW", "ALLOW"}) {
    REQUIRE(ds->AppendAuditEvent(Audit("authorize", outcome)).ok());
  }
  REQUIRE(zones::VerifyChain(*ds->ListAuditEvents({})).ok());
  SqliteDb raw = OpenRaw(path);
  absl::Status blocked = raw.Exec("UPDATE audit_events SET outcome = 'ALLOW' WHERE sequence = 2");
  CHECK(blocked.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(blocked.message(), "append-only"));
  CHECK(raw.Exec("DELETE FROM audit_events WHERE sequence = 3").code() ==
        absl::StatusCode::kFailedPrecondition);

  REQUIRE(raw.Exec("DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;"
                   "UPDATE audit_events SET outcome = 'ALLOW' WHERE sequence = 2")
              .ok());
  auto altered = zones::VerifyChain(*ds->ListAuditEvents({}));
  CHECK(altered.status().code() == absl::StatusCode::kDataLoss);
  CHECK(Contains(altered.status().message(), "broken at event 2: altered"));

  REQUIRE(raw.Exec("UPDATE audit_events SET outcome = 'DENY' WHERE sequence = 2;"
                   "DELETE FROM audit_events WHERE sequence = 3")
              .ok());
  auto removed = zones::VerifyChain(*ds->ListAuditEvents({}));
  CHECK(Contains(removed.status().message(), "broken at event 3: removed"));
}

}  // namespace
}  // namespace spinel::server::testing
