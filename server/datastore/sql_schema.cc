#include "server/datastore/sql_schema.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spinel::server {
namespace {

// Markers: {key} text that is a key or ordered by, {int} a 64-bit integer, {bool} a boolean,
// {end} the end of a CREATE TABLE, {selectors_key} what the identity index covers of the
// selectors, {audit_append_only} the triggers that keep the audit log append-only,
// {drop_revision_sequence} PostgreSQL's sequence of the first change log's revisions.

// Entries, agents, join tokens, bundles, audit log, change log.
constexpr char kCoreTables[] = R"sql(
CREATE TABLE registration_entries (
  id {key} PRIMARY KEY NOT NULL,
  spiffe_id {key} NOT NULL,
  parent_id {key} NOT NULL,
  selectors TEXT NOT NULL,
  zone {key} NOT NULL,
  x509_svid_ttl {int} NOT NULL,
  jwt_svid_ttl {int} NOT NULL,
  dns_names TEXT NOT NULL,
  hint TEXT NOT NULL,
  admin {bool} NOT NULL,
  expires_at {int},
  revision_number {int} NOT NULL,
  created_at {int} NOT NULL,
  updated_at {int} NOT NULL
{end}
CREATE UNIQUE INDEX registration_entries_identity
  ON registration_entries (spiffe_id, parent_id, {selectors_key});
CREATE INDEX registration_entries_parent ON registration_entries (parent_id);
CREATE INDEX registration_entries_zone ON registration_entries (zone);

CREATE TABLE attested_agents (
  spiffe_id {key} PRIMARY KEY NOT NULL,
  attestation_type TEXT NOT NULL,
  serial_number TEXT NOT NULL,
  svid_expires_at {int} NOT NULL,
  selectors TEXT NOT NULL,
  banned {bool} NOT NULL,
  created_at {int} NOT NULL,
  updated_at {int} NOT NULL
{end}

CREATE TABLE join_tokens (
  token_hash {key} PRIMARY KEY NOT NULL,
  agent_id TEXT NOT NULL,
  expires_at {int} NOT NULL,
  used_at {int},
  created_at {int} NOT NULL
{end}
CREATE INDEX join_tokens_expiry ON join_tokens (expires_at);

CREATE TABLE bundles (
  trust_domain {key} PRIMARY KEY NOT NULL,
  bundle_json TEXT NOT NULL,
  sequence {int} NOT NULL,
  updated_at {int} NOT NULL
{end}

CREATE TABLE audit_events (
  sequence {int} PRIMARY KEY,
  time_ms {int} NOT NULL,
  actor TEXT NOT NULL,
  zone TEXT NOT NULL,
  subject TEXT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  reason TEXT NOT NULL,
  details TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
{end}
CREATE INDEX audit_events_zone ON audit_events (zone, sequence);
CREATE INDEX audit_events_time ON audit_events (time_ms);
{audit_append_only}

CREATE TABLE change_log (
  revision {int} PRIMARY KEY,
  kind {key} NOT NULL,
  object_id {key} NOT NULL,
  deleted {bool} NOT NULL,
  UNIQUE (kind, object_id)
{end}
)sql";

// Step-up approvals. The binding (subject, resource, action, context digest) is indexed for
// finding an identical live request; the request context itself is a JSON object kept for
// display. Expiry is not a stored state.
constexpr char kApprovalTables[] = R"sql(
CREATE TABLE approvals (
  id {key} PRIMARY KEY NOT NULL,
  subject TEXT NOT NULL,
  resource TEXT NOT NULL,
  action TEXT NOT NULL,
  context_digest TEXT NOT NULL,
  context TEXT NOT NULL,
  requesting_agent TEXT NOT NULL,
  zone TEXT NOT NULL,
  rule_id TEXT NOT NULL,
  created_at_ms {int} NOT NULL,
  expires_at_ms {int} NOT NULL,
  state TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  decision_reason TEXT NOT NULL,
  decided_at_ms {int} NOT NULL,
  used_at_ms {int} NOT NULL
{end}
CREATE INDEX approvals_binding ON approvals (subject, resource, action, context_digest);
CREATE INDEX approvals_created ON approvals (created_at_ms);
)sql";

// Federation relationships (the foreign bundle itself is a row of `bundles`;
// endpoint_spiffe_id is "" for https_web) and every replica's own published bundles, merged
// per trust domain by the servers.
constexpr char kFederationTables[] = R"sql(
CREATE TABLE federation_relationships (
  trust_domain {key} PRIMARY KEY NOT NULL,
  bundle_endpoint_url TEXT NOT NULL,
  profile TEXT NOT NULL,
  endpoint_spiffe_id TEXT NOT NULL,
  web_ca_pem TEXT NOT NULL,
  created_at {int} NOT NULL,
  updated_at {int} NOT NULL,
  last_attempt_at {int} NOT NULL,
  last_success_at {int} NOT NULL,
  next_refresh_at {int} NOT NULL,
  last_error TEXT NOT NULL,
  consecutive_failures {int} NOT NULL
{end}

CREATE TABLE server_bundles (
  server_id {key} NOT NULL,
  trust_domain {key} NOT NULL,
  bundle_json TEXT NOT NULL,
  sequence {int} NOT NULL,
  updated_at {int} NOT NULL,
  PRIMARY KEY (trust_domain, server_id)
{end}
)sql";

// The change log becomes a log of events (every change, with the parents of entry changes)
// instead of one record per object: what the change feed reads since its last revision. The
// old records are kept as events without parents. Revisions are MAX + 1 under the write lock.
constexpr char kChangeEventTables[] = R"sql(
CREATE TABLE change_events (
  revision {int} PRIMARY KEY,
  kind {key} NOT NULL,
  object_id {key} NOT NULL,
  deleted {bool} NOT NULL,
  parent_ids TEXT NOT NULL
{end}
CREATE INDEX change_events_object ON change_events (kind, object_id, revision);
INSERT INTO change_events (revision, kind, object_id, deleted, parent_ids)
  SELECT revision, kind, object_id, deleted, '[]' FROM change_log;
DROP TABLE change_log;
{drop_revision_sequence}
)sql";

// Delegation: on whose behalf an approval was asked and an event happened (user_issuer,
// user_subject — "user" is reserved in PostgreSQL — and the actor chain as a JSON array of
// SPIFFE IDs, current actor first). Rows written before stay "on behalf of nobody": empty user
// and "[]". An approval's user and chain are part of its binding, so they join the binding
// index; audit events are found by user.
constexpr char kDelegationColumns[] = R"sql(
ALTER TABLE approvals ADD COLUMN user_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN user_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE approvals ADD COLUMN actor_chain TEXT NOT NULL DEFAULT '[]';
DROP INDEX approvals_binding;
CREATE INDEX approvals_binding
  ON approvals (subject, resource, action, context_digest, user_subject);
ALTER TABLE audit_events ADD COLUMN user_issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN user_subject TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN actor_chain TEXT NOT NULL DEFAULT '[]';
CREATE INDEX audit_events_user ON audit_events (user_subject, sequence);
)sql";

using Spellings = std::vector<std::pair<std::string_view, std::string_view>>;

const Spellings& SpellingsOf(SqlEngine engine) {
  static const Spellings kSqlite = {
      {"{key}", "TEXT"},
      {"{int}", "INTEGER"},  // `sequence INTEGER PRIMARY KEY` is the rowid: appends stay cheap
      {"{bool}", "INTEGER"},
      {"{end}", ") STRICT;"},
      {"{selectors_key}", "selectors"},
      {"{drop_revision_sequence}", ""},
      {"{audit_append_only}",
       "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events\n"
       "  BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;\n"
       "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events\n"
       "  BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;"},
  };
  static const Spellings kPostgres = {
      {"{key}", "TEXT COLLATE \"C\""},
      {"{int}", "BIGINT"},
      {"{bool}", "BOOLEAN"},
      {"{end}", ");"},
      // A long selector list would exceed a btree row.
      {"{selectors_key}", "md5(selectors)"},
      {"{drop_revision_sequence}", "DROP SEQUENCE IF EXISTS change_log_revision;"},
      {"{audit_append_only}",
       "CREATE FUNCTION spinel_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS\n"
       "  $$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$;\n"
       "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events\n"
       "  FOR EACH ROW EXECUTE FUNCTION spinel_audit_append_only();"},
  };
  return engine == SqlEngine::kSqlite ? kSqlite : kPostgres;
}

std::string Render(std::string_view ddl, SqlEngine engine) {
  std::string out(ddl);
  for (const auto& [marker, spelling] : SpellingsOf(engine)) {
    for (size_t at = out.find(marker); at != std::string::npos;
         at = out.find(marker, at + spelling.size())) {
      out.replace(at, marker.size(), spelling);
    }
  }
  return out;
}

struct RenderedSchema {
  std::vector<std::string> sql;  // stable storage for the migrations' SQL text
  std::vector<SchemaMigration> migrations;
};

// `versions` lists, for each version in order, its description and its tables.
RenderedSchema RenderSchema(
    SqlEngine engine,
    const std::vector<std::pair<const char*, std::vector<const char*>>>& versions) {
  RenderedSchema out;
  for (const auto& [description, tables] : versions) {
    std::string sql;
    for (const char* ddl : tables) sql += Render(ddl, engine);
    out.sql.push_back(std::move(sql));
  }
  for (size_t i = 0; i < versions.size(); ++i) {
    out.migrations.push_back({static_cast<int>(i) + 1, versions[i].first, out.sql[i].c_str()});
  }
  return out;
}

}  // namespace

std::span<const SchemaMigration> SchemaMigrations(SqlEngine engine) {
  static const RenderedSchema kSqlite = RenderSchema(
      SqlEngine::kSqlite,
      {{"entries, agents, join tokens, bundles, audit log, change log", {kCoreTables}},
       {"step-up approvals", {kApprovalTables}},
       {"federation relationships, replicas' own bundles", {kFederationTables}},
       {"change events with the parents of entry changes", {kChangeEventTables}},
       {"delegation: approvals and audit events on behalf of a user", {kDelegationColumns}}});
  static const RenderedSchema kPostgres = RenderSchema(
      SqlEngine::kPostgres,
      {{"entries, agents, join tokens, bundles, audit log, change log, approvals",
        {kCoreTables, kApprovalTables}},
       {"federation relationships, replicas' own bundles", {kFederationTables}},
       {"change events with the parents of entry changes", {kChangeEventTables}},
       {"delegation: approvals and audit events on behalf of a user", {kDelegationColumns}}});
  return (engine == SqlEngine::kSqlite ? kSqlite : kPostgres).migrations;
}

}  // namespace spinel::server
