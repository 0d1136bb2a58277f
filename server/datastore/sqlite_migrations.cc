#include "server/datastore/sqlite_migrations.h"

#include <cstdint>

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {
namespace {

using common::StrCat;

// Version 1: entries, agents, join tokens, bundles, audit log, change log.
//
// Selectors and DNS names are JSON arrays (records.h); selectors are normalized before
// storing, so the identity index also catches an identical entry. Lookups by parent and by
// SPIFFE ID (the identity index's leading column) are indexed. The audit log refuses UPDATE
// and DELETE by trigger: it is append-only for this code, and the hash chain makes any change
// by other means detectable.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE registration_entries (
  id TEXT PRIMARY KEY NOT NULL,
  spiffe_id TEXT NOT NULL,
  parent_id TEXT NOT NULL,
  selectors TEXT NOT NULL,
  zone TEXT NOT NULL,
  x509_svid_ttl INTEGER NOT NULL,
  jwt_svid_ttl INTEGER NOT NULL,
  dns_names TEXT NOT NULL,
  hint TEXT NOT NULL,
  admin INTEGER NOT NULL,
  expires_at INTEGER,
  revision_number INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX registration_entries_identity
  ON registration_entries (spiffe_id, parent_id, selectors);
CREATE INDEX registration_entries_parent ON registration_entries (parent_id);
CREATE INDEX registration_entries_zone ON registration_entries (zone);

CREATE TABLE attested_agents (
  spiffe_id TEXT PRIMARY KEY NOT NULL,
  attestation_type TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  svid_expires_at INTEGER NOT NULL,
  selectors TEXT NOT NULL,
  banned INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE join_tokens (
  token_hash TEXT PRIMARY KEY NOT NULL,
  agent_id TEXT NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX join_tokens_expiry ON join_tokens (expires_at);

CREATE TABLE bundles (
  trust_domain TEXT PRIMARY KEY NOT NULL,
  bundle_json TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE audit_events (
  sequence INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  actor TEXT NOT NULL,
  zone TEXT NOT NULL,
  subject TEXT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
) STRICT;
CREATE INDEX audit_events_zone ON audit_events (zone, sequence);
CREATE INDEX audit_events_time ON audit_events (time_ms);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
  BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;

CREATE TABLE change_log (
  revision INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  object_id TEXT NOT NULL,
  deleted INTEGER NOT NULL,
  UNIQUE (kind, object_id)
) STRICT;
)sql";

// Version 2: step-up approvals. The binding (subject, resource, action, context digest) is
// indexed for finding an identical live request; the request context itself is a JSON object
// kept for display. Times are Unix milliseconds (0: not yet); expiry is not a stored state.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE approvals (
  id TEXT PRIMARY KEY NOT NULL,
  subject TEXT NOT NULL,
  resource TEXT NOT NULL,
  action TEXT NOT NULL,
  context_digest TEXT NOT NULL,
  context TEXT NOT NULL,
  requesting_agent TEXT NOT NULL,
  zone TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  state TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  decision_reason TEXT NOT NULL,
  decided_at_ms INTEGER NOT NULL,
  used_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX approvals_binding ON approvals (subject, resource, action, context_digest);
CREATE INDEX approvals_created ON approvals (created_at_ms);
)sql";

// Version 3: federation relationships (the foreign bundle itself is a row of `bundles`;
// endpoint_spiffe_id is "" for https_web) and every replica's own published bundles, merged
// per trust domain by the servers.
constexpr char kSchemaV3[] = R"sql(
CREATE TABLE federation_relationships (
  trust_domain TEXT PRIMARY KEY NOT NULL,
  bundle_endpoint_url TEXT NOT NULL,
  profile TEXT NOT NULL,
  endpoint_spiffe_id TEXT NOT NULL,
  web_ca_pem TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_attempt_at INTEGER NOT NULL,
  last_success_at INTEGER NOT NULL,
  next_refresh_at INTEGER NOT NULL,
  last_error TEXT NOT NULL,
  consecutive_failures INTEGER NOT NULL
) STRICT;

CREATE TABLE server_bundles (
  server_id TEXT NOT NULL,
  trust_domain TEXT NOT NULL,
  bundle_json TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (trust_domain, server_id)
) STRICT;
)sql";

constexpr SqliteMigration kMigrations[] = {
    {1, "entries, agents, join tokens, bundles, audit log, change log", kSchemaV1},
    {2, "step-up approvals", kSchemaV2},
    {3, "federation relationships, replicas' own bundles", kSchemaV3},
};

absl::Status TooNew(const SqliteDb& db, int64_t version, int latest) {
  return SchemaTooNew(StrCat("SQLite database ", db.path()), version, latest);
}

}  // namespace

std::span<const SqliteMigration> SqliteSchemaMigrations() { return kMigrations; }

int LatestSqliteSchemaVersion() { return LatestMigrationVersion(kMigrations); }

absl::Status ApplySqliteMigrations(SqliteDb& db, std::span<const SqliteMigration> migrations) {
  SPINEL_RETURN_IF_ERROR(CheckMigrationNumbering(migrations, "SQLite"));
  const int latest = LatestMigrationVersion(migrations);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, Transaction::Begin(db, Transaction::Mode::kImmediate));
  // Read inside the write transaction: two processes opening the same new file migrate once.
  SPINEL_ASSIGN_OR_RETURN(int64_t current, db.QueryInt("PRAGMA user_version"));
  if (current > latest) return TooNew(db, current, latest);
  if (current == latest) return txn.Commit();
  SPINEL_RETURN_IF_ERROR(RunPendingMigrations(
      migrations, current, [&db](const std::string& sql) { return db.Exec(sql); }));
  // PRAGMA takes no bound parameters; `latest` is a number from the constant list above.
  SPINEL_RETURN_IF_ERROR(db.Exec(StrCat("PRAGMA user_version = ", latest)));
  return txn.Commit();
}

absl::Status CheckSqliteSchemaVersion(SqliteDb& db, std::span<const SqliteMigration> migrations) {
  SPINEL_RETURN_IF_ERROR(CheckMigrationNumbering(migrations, "SQLite"));
  const int latest = LatestMigrationVersion(migrations);
  SPINEL_ASSIGN_OR_RETURN(int64_t current, db.QueryInt("PRAGMA user_version"));
  if (current > latest) return TooNew(db, current, latest);
  if (current < latest) {
    return absl::FailedPreconditionError(
        StrCat("SQLite database ", db.path(), " has schema version ", current,
               " but this build needs version ", latest,
               " and the database is read-only, so it cannot be migrated"));
  }
  return absl::OkStatus();
}

}  // namespace spinel::server
