// The delegation migration (sql_schema.cc) on databases written at the previous schema version,
// on both engines: an approval and a hash-chained audit event stored before delegation existed
// read back as "on behalf of nobody" (empty user, empty chain), the old event's v1 hash still
// verifies, delegated events chain after it, and the old approval still works undelegated.
#include "server/datastore/sql_schema.h"

#include <doctest/doctest.h>

#include <chrono>
#include <functional>
#include <string>

#include "server/datastore/postgres_conn.h"
#include "server/datastore/records.h"
#include "server/datastore/sqlite_db.h"
#include "server/datastore/sqlite_migrations.h"
#include "tests/server/datastore/datastore_test_util.h"
#include "trust-zones/approval.h"
#include "trust-zones/audit_chain.h"

namespace spinel::server::testing {
namespace {

using spinel::testing::FakeClock;

constexpr char kRunner[] = "spiffe://tools.example.org/runner";
constexpr char kModel[] = "spiffe://inference.example.org/model-server";
constexpr char kRequester[] = "spiffe://spinel.example.org/spinel/agent/join_token/n1";
// The last version before the delegation columns.
constexpr size_t kSqliteBefore = 4;
constexpr size_t kPostgresBefore = 3;

using RunSql = std::function<void(const std::string& sql, const SqlParams& params)>;

zones::ApprovalBinding OldBinding() {
  auto binding = zones::ApprovalBinding::Make(kRunner, "tool:deploy.prod", "invoke", {});
  REQUIRE(binding.ok());
  return *binding;
}

// Stores, as the previous schema's code did, one pending approval of OldBinding() and one
// audit event (v1 hash), both at `now`.
void WriteOldRows(const RunSql& run, common::TimePoint now) {
  const int64_t ms = UnixMillis(now);
  const zones::ApprovalBinding b = OldBinding();
  run("INSERT INTO approvals (id, subject, resource, action, context_digest, context, "
      "requesting_agent, zone, rule_id, created_at_ms, expires_at_ms, state, decided_by, "
      "decision_reason, decided_at_ms, used_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, "
      "$10, $11, $12, $13, $14, $15, $16)",
      SqlParams()
          .Text("apr-old")
          .Text(b.subject)
          .Text(b.resource)
          .Text(b.action)
          .Text(b.context_digest)
          .Text("{}")
          .Text(kRequester)
          .Text("tool-execution")
          .Text("tool-execution/deploy")
          .Int(ms)
          .Int(ms + 600'000)
          .Text("approved")
          .Text("operator:ops")
          .Text("CHG-1")
          .Int(ms)
          .Int(0));
  AuditEvent old = Audit("x509_svid.issued", "ok", "inference");
  old.time = FromUnixMillis(ms);
  REQUIRE(zones::ChainAfter(nullptr, old).ok());
  run("INSERT INTO audit_events (sequence, time_ms, actor, zone, subject, kind, outcome, reason, "
      "details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
      SqlParams()
          .Int(1)
          .Int(ms)
          .Text(old.actor)
          .Text(old.zone)
          .Text(old.subject)
          .Text(old.kind)
          .Text(old.outcome)
          .Text(old.reason)
          .Text(old.details)
          .Text(old.prev_hash)
          .Text(old.hash));
}

// What the migrated datastore must show and accept.
void CheckMigrated(Datastore& ds) {
  auto approval = ds.GetApproval("apr-old");
  REQUIRE_MESSAGE(approval.ok(), approval.status().ToString());
  CHECK(approval->request.binding == OldBinding());
  CHECK(approval->request.binding.user.empty());
  CHECK(approval->request.binding.actor_chain.empty());

  AuditEvent delegated = Audit("authorize", "ALLOW", "tool-execution");
  delegated.user_issuer = "https://idp.example.org";
  delegated.user = "alice@example.org";
  delegated.actor_chain = {kRunner, kModel};
  REQUIRE(ds.AppendAuditEvent(delegated).ok());
  auto events = ds.ListAuditEvents({});
  REQUIRE(events.ok());
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].user.empty());
  CHECK((*events)[0].actor_chain.empty());
  CHECK((*events)[1].actor_chain == delegated.actor_chain);
  auto head = zones::VerifyChain(*events);
  CHECK_MESSAGE(head.ok(), head.status().ToString());
  CHECK(ds.ListAuditEvents({.user = "alice@example.org"})->size() == 1);

  // The old approval is bound to nobody: a delegated use is refused, an undelegated one works.
  zones::ApprovalBinding for_alice = OldBinding();
  for_alice.user_issuer = delegated.user_issuer;
  for_alice.user = delegated.user;
  for_alice.actor_chain = {kRunner};
  CHECK(ds.UseApproval("apr-old", for_alice).status().code() ==
        absl::StatusCode::kPermissionDenied);
  CHECK(ds.UseApproval("apr-old", OldBinding()).ok());
}

TEST_CASE("sql schema: a SQLite database of the previous version gains the delegation columns") {
  TempDir dir;
  const std::string path = dir.File("spinel.db");
  FakeClock clock;
  {
    auto db = SqliteDb::Open(path, {});
    REQUIRE(db.ok());
    REQUIRE(ApplySqliteMigrations(*db, SqliteSchemaMigrations().first(kSqliteBefore)).ok());
    WriteOldRows(
        [&](const std::string& sql, const SqlParams& params) {
          auto done = db->Query(sql, params);
          REQUIRE_MESSAGE(done.ok(), done.status().ToString());
        },
        clock.Now());
  }
  auto ds = OpenSqlite(path, clock);
  CHECK(*ds->QueryIntForTest("PRAGMA user_version") == LatestSqliteSchemaVersion());
  CHECK(LatestSqliteSchemaVersion() == static_cast<int>(kSqliteBefore) + 1);
  CheckMigrated(*ds);
}

TEST_CASE(
    "sql schema: a PostgreSQL database of the previous version gains the delegation columns") {
  auto& cluster = spinel::testing::PostgresCluster::Shared();
  const std::string schema = cluster.NewSchema();
  const std::string uri = cluster.Uri(schema);
  FakeClock clock;
  {
    auto conn = PgConnection::Connect(uri, "test");
    REQUIRE_MESSAGE(conn.ok(), conn.status().ToString());
    REQUIRE(conn->Exec("CREATE TABLE spinel_schema (one INTEGER PRIMARY KEY CHECK (one = 1), "
                       "version INTEGER NOT NULL)")
                .ok());
    for (const SchemaMigration& m : SchemaMigrations(SqlEngine::kPostgres).first(kPostgresBefore)) {
      absl::Status applied = conn->Exec(m.sql);
      REQUIRE_MESSAGE(applied.ok(), applied.ToString());
    }
    REQUIRE(conn->Exec("INSERT INTO spinel_schema (one, version) VALUES (1, " +
                       std::to_string(kPostgresBefore) + ")")
                .ok());
    WriteOldRows(
        [&](const std::string& sql, const SqlParams& params) {
          auto done = conn->Query(sql, params);
          REQUIRE_MESSAGE(done.ok(), done.status().ToString());
        },
        clock.Now());
  }
  CHECK(SchemaMigrations(SqlEngine::kPostgres).size() == kPostgresBefore + 1);
  {
    auto ds = OpenPostgres(uri, clock);
    CheckMigrated(*ds);
  }
  cluster.DropSchema(schema);
}

}  // namespace
}  // namespace spinel::server::testing
