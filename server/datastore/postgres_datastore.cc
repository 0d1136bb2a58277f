// PostgresDatastore: opening, the change log, bundles and the audit log. Entries are in
// postgres_entries.cc, agents and join tokens in postgres_agents.cc, approvals in
// postgres_approvals.cc.
#include "server/datastore/postgres_datastore.h"

#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/postgres_migrations.h"
#include "server/datastore/records.h"
#include "trust-zones/audit_chain.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

constexpr size_t kMaxIdleConnections = 8;

}  // namespace

PostgresDatastore::PostgresDatastore(std::string conninfo, std::string location,
                                     const common::Clock& clock)
    : clock_(clock), pool_(std::move(conninfo), std::move(location), kMaxIdleConnections) {}

absl::StatusOr<std::unique_ptr<PostgresDatastore>> PostgresDatastore::Open(
    const std::string& conninfo, const common::Clock& clock) {
  SPINEL_ASSIGN_OR_RETURN(std::string location, PgLocation(conninfo));
  // Private constructor: not reachable through std::make_unique.
  std::unique_ptr<PostgresDatastore> ds(new PostgresDatastore(conninfo, location, clock));
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, ds->pool_.Acquire());
  SPINEL_RETURN_IF_ERROR(ApplyPgMigrations(*conn, PgSchemaMigrations()));
  return ds;
}

absl::StatusOr<PostgresDatastore::WriteTxn> PostgresDatastore::BeginWrite() {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  WriteTxn out{std::move(conn), std::nullopt};
  SPINEL_ASSIGN_OR_RETURN(PgTransaction txn, PgTransaction::Begin(*out));
  out.txn.emplace(std::move(txn));
  SPINEL_RETURN_IF_ERROR(
      out->Query("SELECT pg_advisory_xact_lock($1)", PgParams().Int(kPgWriteLockKey)).status());
  return out;
}

absl::Status PostgresDatastore::RecordChange(PgConnection& conn, ChangeKind kind,
                                             std::string_view object_id, bool deleted) {
  // One record per object: its latest change, with the next revision.
  SPINEL_ASSIGN_OR_RETURN(
      PgRows rows,
      conn.Query("INSERT INTO change_log (revision, kind, object_id, deleted) VALUES "
                 "(nextval('change_log_revision'), $1, $2, $3) ON CONFLICT (kind, object_id) "
                 "DO UPDATE SET revision = EXCLUDED.revision, deleted = EXCLUDED.deleted "
                 "RETURNING revision",
                 PgParams().Text(ChangeKindName(kind)).Text(object_id).Bool(deleted)));
  // Delivered when (and only if) the transaction commits.
  return conn
      .Query("SELECT pg_notify($1, $2)", PgParams().Text(kPgChangeChannel).Text(rows[0].Text(0)))
      .status();
}

// --- Bundles ------------------------------------------------------------------------------

absl::StatusOr<BundleRecord> PostgresDatastore::GetBundleOn(PgConnection& conn,
                                                            const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(PgRows rows, conn.Query(StrCat("SELECT ", kBundleColumns,
                                                         " FROM bundles WHERE trust_domain = $1"),
                                                  PgParams().Text(td.name())));
  if (rows.empty()) return BundleNotFound(td);
  return ReadBundle(rows[0]);
}

absl::StatusOr<BundleRecord> PostgresDatastore::SetBundle(const BundleRecord& bundle) {
  SPINEL_RETURN_IF_ERROR(ValidateBundle(bundle));
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  absl::StatusOr<BundleRecord> stored = GetBundleOn(*w, bundle.trust_domain);
  if (!stored.ok() && stored.status().code() != absl::StatusCode::kNotFound) {
    return stored.status();
  }
  if (stored.ok()) {
    SPINEL_RETURN_IF_ERROR(CheckBundleSequence(*stored, bundle));
    // Unchanged: no write, no change record, nobody woken.
    if (stored->sequence == bundle.sequence && stored->bundle_json == bundle.bundle_json) {
      return *stored;
    }
  }
  BundleRecord out = bundle;
  out.updated_at = NowSeconds();
  SPINEL_RETURN_IF_ERROR(
      w->Query(StrCat("INSERT INTO bundles (", kBundleColumns,
                      ") VALUES ($1, $2, $3, $4) ON CONFLICT (trust_domain) DO UPDATE SET "
                      "bundle_json = $2, sequence = $3, updated_at = $4"),
               PgParams()
                   .Text(out.trust_domain.name())
                   .Text(out.bundle_json)
                   .Int(out.sequence)
                   .Int(out.updated_at))
          .status());
  SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kBundle, out.trust_domain.name(), false));
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return out;
}

absl::StatusOr<BundleRecord> PostgresDatastore::GetBundle(const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  return GetBundleOn(*conn, td);
}

absl::StatusOr<std::vector<BundleRecord>> PostgresDatastore::ListBundles() {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  SPINEL_ASSIGN_OR_RETURN(PgRows rows, conn->Query(StrCat("SELECT ", kBundleColumns,
                                                          " FROM bundles ORDER BY trust_domain")));
  std::vector<BundleRecord> out;
  for (int i = 0; i < rows.size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(BundleRecord bundle, ReadBundle(rows[i]));
    out.push_back(std::move(bundle));
  }
  return out;
}

absl::Status PostgresDatastore::DeleteBundle(const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(PgRows rows, w->Query("DELETE FROM bundles WHERE trust_domain = $1",
                                                PgParams().Text(td.name())));
  if (rows.affected() == 0) return BundleNotFound(td);
  SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kBundle, td.name(), true));
  return w.Commit();
}

// --- Audit log ----------------------------------------------------------------------------

absl::StatusOr<AuditEvent> PostgresDatastore::AppendAuditEventOn(PgConnection& conn,
                                                                 const AuditEvent& event) {
  AuditEvent out = event;
  // Stored (and hashed) at millisecond precision; the epoch means "now".
  const common::TimePoint time = out.time == common::TimePoint{} ? clock_.Now() : out.time;
  out.time = TruncateToMillis(time);
  SPINEL_ASSIGN_OR_RETURN(
      PgRows last,
      conn.Query("SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1"));
  AuditEvent previous;
  if (!last.empty()) {
    previous.sequence = static_cast<uint64_t>(last[0].Int(0));
    previous.hash = last[0].Text(1);
  }
  SPINEL_RETURN_IF_ERROR(zones::ChainAfter(last.empty() ? nullptr : &previous, out));
  SPINEL_RETURN_IF_ERROR(
      conn.Query(StrCat("INSERT INTO audit_events (", kAuditColumns,
                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"),
                 PgParams()
                     .Int(static_cast<int64_t>(out.sequence))
                     .Int(UnixMillis(out.time))
                     .Text(out.actor)
                     .Text(out.zone)
                     .Text(out.subject)
                     .Text(out.kind)
                     .Text(out.outcome)
                     .Text(out.reason)
                     .Text(out.details)
                     .Text(out.prev_hash)
                     .Text(out.hash))
          .status());
  return out;
}

absl::StatusOr<AuditEvent> PostgresDatastore::AppendAuditEvent(const AuditEvent& event) {
  SPINEL_RETURN_IF_ERROR(ValidateAuditEvent(event));
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(AuditEvent out, AppendAuditEventOn(*w, event));
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return out;
}

absl::StatusOr<std::vector<AuditEvent>> PostgresDatastore::AppendAuditEvents(
    const std::vector<AuditEvent>& events) {
  for (size_t i = 0; i < events.size(); ++i) {
    absl::Status valid = ValidateAuditEvent(events[i]);
    if (!valid.ok()) {
      return absl::InvalidArgumentError(StrCat("audit event ", i, ": ", valid.message()));
    }
  }
  std::vector<AuditEvent> out;
  if (events.empty()) return out;
  out.reserve(events.size());
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  for (const AuditEvent& event : events) {
    SPINEL_ASSIGN_OR_RETURN(AuditEvent stored, AppendAuditEventOn(*w, event));
    out.push_back(std::move(stored));
  }
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return out;
}

absl::StatusOr<std::vector<AuditEvent>> PostgresDatastore::ListAuditEvents(
    const AuditFilter& filter) {
  PgConditions where;
  if (filter.zone) where.AddText("zone = ", *filter.zone);
  if (filter.since) where.AddInt("time_ms >= ", UnixMillis(*filter.since));
  if (filter.kind) where.AddText("kind = ", *filter.kind);
  if (filter.after_sequence > 0) {
    where.AddInt("sequence > ", static_cast<int64_t>(filter.after_sequence));
  }
  // The newest `limit` events: take them in descending order, then restore sequence order.
  const bool newest = filter.newest && filter.limit > 0;
  const std::string limit = StrCat(" LIMIT $", where.Count() + 1);
  std::string sql = StrCat("SELECT ", kAuditColumns, " FROM audit_events", where.Sql(),
                           newest ? " ORDER BY sequence DESC" : " ORDER BY sequence", limit);
  if (newest) sql = StrCat("SELECT * FROM (", sql, ") AS newest ORDER BY sequence");
  PgParams params = where.Params();
  if (filter.limit > 0) {
    params.Int(filter.limit);
  } else {
    params.Null();  // LIMIT NULL: no limit
  }
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  SPINEL_ASSIGN_OR_RETURN(PgRows rows, conn->Query(sql, params));
  std::vector<AuditEvent> out;
  out.reserve(static_cast<size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) out.push_back(ReadAuditEvent(rows[i]));
  return out;
}

// --- Change log ---------------------------------------------------------------------------

absl::StatusOr<int64_t> PostgresDatastore::CurrentRevision() {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  return conn->QueryInt("SELECT COALESCE(MAX(revision), 0) FROM change_log");
}

absl::StatusOr<std::vector<Change>> PostgresDatastore::ListChanges(int64_t since_revision,
                                                                   int limit) {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  PgParams params;
  params.Int(since_revision);
  if (limit > 0) {
    params.Int(limit);
  } else {
    params.Null();
  }
  SPINEL_ASSIGN_OR_RETURN(PgRows rows,
                          conn->Query(StrCat("SELECT ", kChangeColumns,
                                             " FROM change_log "
                                             "WHERE revision > $1 ORDER BY revision LIMIT $2"),
                                      params));
  std::vector<Change> out;
  for (int i = 0; i < rows.size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(Change change, ReadChange(rows[i]));
    out.push_back(std::move(change));
  }
  return out;
}

}  // namespace spinel::server
