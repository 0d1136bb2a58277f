#include "server/datastore/postgres_migrations.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {
namespace {

using common::StrCat;

// Version 1: entries, agents, join tokens, bundles, audit log, change log, approvals (SQLite
// versions 1 and 2). Keys and ordered columns use the "C" collation so that listings and page
// tokens order bytewise, as SQLite does. The identity index covers a digest of the selectors
// (a long selector list would exceed a btree row). The audit log refuses UPDATE and DELETE by
// trigger. Change revisions come from a sequence; writes are serialized (kPgWriteLockKey), so
// revisions commit in order.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE registration_entries (
  id TEXT COLLATE "C" PRIMARY KEY,
  spiffe_id TEXT COLLATE "C" NOT NULL,
  parent_id TEXT COLLATE "C" NOT NULL,
  selectors TEXT NOT NULL,
  zone TEXT COLLATE "C" NOT NULL,
  x509_svid_ttl BIGINT NOT NULL,
  jwt_svid_ttl BIGINT NOT NULL,
  dns_names TEXT NOT NULL,
  hint TEXT NOT NULL,
  admin BOOLEAN NOT NULL,
  expires_at BIGINT,
  revision_number BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX registration_entries_identity
  ON registration_entries (spiffe_id, parent_id, md5(selectors));
CREATE INDEX registration_entries_parent ON registration_entries (parent_id);
CREATE INDEX registration_entries_zone ON registration_entries (zone);

CREATE TABLE attested_agents (
  spiffe_id TEXT COLLATE "C" PRIMARY KEY,
  attestation_type TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  svid_expires_at BIGINT NOT NULL,
  selectors TEXT NOT NULL,
  banned BOOLEAN NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE join_tokens (
  token_hash TEXT COLLATE "C" PRIMARY KEY,
  agent_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX join_tokens_expiry ON join_tokens (expires_at);

CREATE TABLE bundles (
  trust_domain TEXT COLLATE "C" PRIMARY KEY,
  bundle_json TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);

CREATE TABLE audit_events (
  sequence BIGINT PRIMARY KEY,
  time_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  zone TEXT NOT NULL,
  subject TEXT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX audit_events_zone ON audit_events (zone, sequence);
CREATE INDEX audit_events_time ON audit_events (time_ms);
CREATE FUNCTION spinel_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION spinel_audit_append_only();

CREATE SEQUENCE change_log_revision;
CREATE TABLE change_log (
  revision BIGINT PRIMARY KEY,
  kind TEXT COLLATE "C" NOT NULL,
  object_id TEXT COLLATE "C" NOT NULL,
  deleted BOOLEAN NOT NULL,
  UNIQUE (kind, object_id)
);

CREATE TABLE approvals (
  id TEXT COLLATE "C" PRIMARY KEY,
  subject TEXT NOT NULL,
  resource TEXT NOT NULL,
  action TEXT NOT NULL,
  context_digest TEXT NOT NULL,
  context TEXT NOT NULL,
  requesting_agent TEXT NOT NULL,
  zone TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  state TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  decision_reason TEXT NOT NULL,
  decided_at_ms BIGINT NOT NULL,
  used_at_ms BIGINT NOT NULL
);
CREATE INDEX approvals_binding ON approvals (subject, resource, action, context_digest);
CREATE INDEX approvals_created ON approvals (created_at_ms);
)sql";

// Version 2 (SQLite version 3): federation relationships (the foreign bundle itself is a row of
// `bundles`; endpoint_spiffe_id is "" for https_web) and every replica's own published bundles,
// merged per trust domain by the servers.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE federation_relationships (
  trust_domain TEXT COLLATE "C" PRIMARY KEY NOT NULL,
  bundle_endpoint_url TEXT NOT NULL,
  profile TEXT NOT NULL,
  endpoint_spiffe_id TEXT NOT NULL,
  web_ca_pem TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  last_attempt_at BIGINT NOT NULL,
  last_success_at BIGINT NOT NULL,
  next_refresh_at BIGINT NOT NULL,
  last_error TEXT NOT NULL,
  consecutive_failures BIGINT NOT NULL
);

CREATE TABLE server_bundles (
  server_id TEXT COLLATE "C" NOT NULL,
  trust_domain TEXT COLLATE "C" NOT NULL,
  bundle_json TEXT NOT NULL,
  sequence BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (trust_domain, server_id)
);
)sql";

constexpr PgMigration kMigrations[] = {
    {1, "entries, agents, join tokens, bundles, audit log, change log, approvals", kSchemaV1},
    {2, "federation relationships, replicas' own bundles", kSchemaV2},
};

}  // namespace

std::span<const PgMigration> PgSchemaMigrations() { return kMigrations; }

int LatestPgSchemaVersion() { return LatestMigrationVersion(kMigrations); }

absl::Status ApplyPgMigrations(PgConnection& conn, std::span<const PgMigration> migrations) {
  SPINEL_RETURN_IF_ERROR(CheckMigrationNumbering(migrations, "PostgreSQL"));
  const int latest = LatestMigrationVersion(migrations);
  SPINEL_ASSIGN_OR_RETURN(PgTransaction txn, PgTransaction::Begin(conn));
  SPINEL_RETURN_IF_ERROR(
      conn.Query("SELECT pg_advisory_xact_lock($1)", PgParams().Int(kPgWriteLockKey)).status());
  SPINEL_RETURN_IF_ERROR(conn.Exec(
      "CREATE TABLE IF NOT EXISTS spinel_schema (one INTEGER PRIMARY KEY CHECK (one = 1), "
      "version INTEGER NOT NULL)"));
  SPINEL_ASSIGN_OR_RETURN(int64_t current,
                          conn.QueryInt("SELECT COALESCE(MAX(version), 0) FROM spinel_schema"));
  if (current > latest) {
    return SchemaTooNew(StrCat("PostgreSQL database ", conn.location()), current, latest);
  }
  if (current == latest) return txn.Commit();
  SPINEL_RETURN_IF_ERROR(RunPendingMigrations(
      migrations, current, [&conn](const std::string& sql) { return conn.Exec(sql); }));
  SPINEL_RETURN_IF_ERROR(conn.Query("INSERT INTO spinel_schema (one, version) VALUES (1, $1) "
                                    "ON CONFLICT (one) DO UPDATE SET version = $1",
                                    PgParams().Int(latest))
                             .status());
  return txn.Commit();
}

}  // namespace spinel::server
