// SqliteDatastore: opening, the change log, bundles and the audit log. Entries are in
// sqlite_entries.cc, agents and join tokens in sqlite_agents.cc.
#include "server/datastore/sqlite_datastore.h"

#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"
#include "server/datastore/sqlite_migrations.h"
#include "trust-zones/audit_chain.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

// WAL with synchronous=FULL: every commit is fsynced to the WAL before it returns.
absl::Status ConfigureWritable(SqliteDb& db) {
  SPINEL_ASSIGN_OR_RETURN(std::string mode, db.QueryText("PRAGMA journal_mode = WAL"));
  if (mode != "wal" && mode != "memory") {
    return absl::UnavailableError(StrCat(
        "SQLite database ", db.path(), ": cannot switch to WAL mode (journal_mode is ", mode, ")"));
  }
  return db.Exec("PRAGMA synchronous = FULL");
}

absl::Status OpenReadOnly(SqliteDb& db) {
  absl::Status status = CheckSqliteSchemaVersion(db, SqliteSchemaMigrations());
  if (status.code() != absl::StatusCode::kUnavailable) return status;
  return absl::UnavailableError(StrCat(
      std::string(status.message()),
      "; the database is read-only, and reading a WAL database needs its -shm and -wal files "
      "to exist or its directory to be writable"));
}

}  // namespace

SqliteDatastore::SqliteDatastore(SqliteDb db, const common::Clock& clock, bool read_only)
    : clock_(clock), path_(db.path()), read_only_(read_only), db_(std::move(db)) {}

absl::StatusOr<std::unique_ptr<SqliteDatastore>> SqliteDatastore::Open(
    const std::string& path, const common::Clock& clock, const SqliteOpenOptions& options) {
  SPINEL_ASSIGN_OR_RETURN(SqliteDb db, SqliteDb::Open(path, options));
  SPINEL_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys = ON"));
  // A file that exists but cannot be written is opened read-only by SQLite itself.
  const bool read_only = db.IsReadOnly();
  if (read_only) {
    SPINEL_RETURN_IF_ERROR(OpenReadOnly(db));
  } else {
    SPINEL_RETURN_IF_ERROR(ConfigureWritable(db));
    SPINEL_RETURN_IF_ERROR(ApplySqliteMigrations(db, SqliteSchemaMigrations()));
  }
  // Private constructor: not reachable through std::make_unique.
  return std::unique_ptr<SqliteDatastore>(new SqliteDatastore(std::move(db), clock, read_only));
}

absl::StatusOr<int64_t> SqliteDatastore::QueryIntForTest(std::string_view constant_sql) {
  absl::MutexLock lock(&mu_);
  return db_.QueryInt(constant_sql);
}

absl::StatusOr<Transaction> SqliteDatastore::BeginWrite() {
  if (read_only_) {
    return absl::UnavailableError(StrCat("SQLite database ", path_,
                                         ": attempt to write a readonly database (opened "
                                         "read-only: the file cannot be written)"));
  }
  return Transaction::Begin(db_, Transaction::Mode::kImmediate);
}

absl::Status SqliteDatastore::RecordChange(ChangeKind kind, std::string_view object_id,
                                           bool deleted) {
  // REPLACE deletes the object's previous record and inserts one with the next revision.
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt, db_.Prepare("INSERT OR REPLACE INTO change_log (kind, object_id, deleted) "
                                  "VALUES (?1, ?2, ?3)"));
  stmt.BindText(1, ChangeKindName(kind)).BindText(2, object_id).BindInt(3, deleted ? 1 : 0);
  return stmt.Run();
}

// --- Bundles ------------------------------------------------------------------------------

absl::StatusOr<BundleRecord> SqliteDatastore::GetBundleLocked(const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("SELECT ", kBundleColumns, " FROM bundles WHERE trust_domain = ?1")));
  stmt.BindText(1, td.name());
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return BundleNotFound(td);
  return ReadBundle(stmt);
}

absl::StatusOr<BundleRecord> SqliteDatastore::SetBundle(const BundleRecord& bundle) {
  SPINEL_RETURN_IF_ERROR(ValidateBundle(bundle));
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  absl::StatusOr<BundleRecord> stored = GetBundleLocked(bundle.trust_domain);
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
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("INSERT INTO bundles (", kBundleColumns,
                         ") VALUES (?1, ?2, ?3, ?4) ON CONFLICT (trust_domain) DO UPDATE SET "
                         "bundle_json = ?2, sequence = ?3, updated_at = ?4")));
  stmt.BindText(1, out.trust_domain.name()).BindText(2, out.bundle_json);
  stmt.BindInt(3, out.sequence).BindInt(4, out.updated_at);
  SPINEL_RETURN_IF_ERROR(stmt.Run());
  SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kBundle, out.trust_domain.name(), false));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::StatusOr<BundleRecord> SqliteDatastore::GetBundle(const common::TrustDomain& td) {
  absl::MutexLock lock(&mu_);
  return GetBundleLocked(td);
}

absl::StatusOr<std::vector<BundleRecord>> SqliteDatastore::ListBundles() {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("SELECT ", kBundleColumns, " FROM bundles ORDER BY trust_domain")));
  std::vector<BundleRecord> out;
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    SPINEL_ASSIGN_OR_RETURN(BundleRecord bundle, ReadBundle(stmt));
    out.push_back(std::move(bundle));
  }
}

absl::Status SqliteDatastore::DeleteBundle(const common::TrustDomain& td) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("DELETE FROM bundles WHERE trust_domain = ?1"));
  SPINEL_RETURN_IF_ERROR(stmt.BindText(1, td.name()).Run());
  if (db_.Changes() == 0) return BundleNotFound(td);
  SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kBundle, td.name(), true));
  return txn.Commit();
}

// --- Audit log ----------------------------------------------------------------------------

absl::StatusOr<AuditEvent> SqliteDatastore::AppendAuditEventLocked(const AuditEvent& event) {
  AuditEvent out = event;
  // Stored (and hashed) at millisecond precision; the epoch means "now".
  const common::TimePoint time = out.time == common::TimePoint{} ? clock_.Now() : out.time;
  out.time = TruncateToMillis(time);
  SPINEL_ASSIGN_OR_RETURN(
      Statement last,
      db_.Prepare("SELECT sequence, hash FROM audit_events ORDER BY sequence DESC LIMIT 1"));
  SPINEL_ASSIGN_OR_RETURN(bool has_last, last.Step());
  AuditEvent previous;
  if (has_last) {
    previous.sequence = static_cast<uint64_t>(last.ColumnInt(0));
    previous.hash = last.ColumnText(1);
  }
  SPINEL_RETURN_IF_ERROR(zones::ChainAfter(has_last ? &previous : nullptr, out));
  SPINEL_ASSIGN_OR_RETURN(
      Statement insert,
      db_.Prepare(StrCat("INSERT INTO audit_events (", kAuditColumns,
                         ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)")));
  insert.BindInt(1, static_cast<int64_t>(out.sequence)).BindInt(2, UnixMillis(out.time));
  insert.BindText(3, out.actor).BindText(4, out.zone).BindText(5, out.subject);
  insert.BindText(6, out.kind).BindText(7, out.outcome).BindText(8, out.reason);
  insert.BindText(9, out.details).BindText(10, out.prev_hash).BindText(11, out.hash);
  SPINEL_RETURN_IF_ERROR(insert.Run());
  return out;
}

absl::StatusOr<AuditEvent> SqliteDatastore::AppendAuditEvent(const AuditEvent& event) {
  SPINEL_RETURN_IF_ERROR(ValidateAuditEvent(event));
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(AuditEvent out, AppendAuditEventLocked(event));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::StatusOr<std::vector<AuditEvent>> SqliteDatastore::AppendAuditEvents(
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
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  for (const AuditEvent& event : events) {
    SPINEL_ASSIGN_OR_RETURN(AuditEvent stored, AppendAuditEventLocked(event));
    out.push_back(std::move(stored));
  }
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::StatusOr<std::vector<AuditEvent>> SqliteDatastore::ListAuditEvents(
    const AuditFilter& filter) {
  SqlConditions where;
  if (filter.zone) where.AddText("zone = ?", *filter.zone);
  if (filter.since) where.AddInt("time_ms >= ?", UnixMillis(*filter.since));
  if (filter.kind) where.AddText("kind = ?", *filter.kind);
  if (filter.after_sequence > 0) {
    where.AddInt("sequence > ?", static_cast<int64_t>(filter.after_sequence));
  }
  // The newest `limit` events: take them in descending order, then restore sequence order.
  const bool newest = filter.newest && filter.limit > 0;
  std::string sql =
      StrCat("SELECT ", kAuditColumns, " FROM audit_events", where.Sql(),
             newest ? " ORDER BY sequence DESC LIMIT ?" : " ORDER BY sequence LIMIT ?");
  if (newest) sql = StrCat("SELECT * FROM (", sql, ") ORDER BY sequence");
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(sql));
  where.Bind(stmt);
  stmt.BindInt(where.Count() + 1, filter.limit > 0 ? filter.limit : -1);
  std::vector<AuditEvent> out;
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.push_back(ReadAuditEvent(stmt));
  }
}

// --- Change log ---------------------------------------------------------------------------

absl::StatusOr<int64_t> SqliteDatastore::CurrentRevision() {
  absl::MutexLock lock(&mu_);
  return db_.QueryInt("SELECT COALESCE(MAX(revision), 0) FROM change_log");
}

absl::StatusOr<std::vector<Change>> SqliteDatastore::ListChanges(int64_t since_revision,
                                                                 int limit) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare(StrCat("SELECT ", kChangeColumns,
                                             " FROM change_log "
                                             "WHERE revision > ?1 ORDER BY revision LIMIT ?2")));
  stmt.BindInt(1, since_revision).BindInt(2, limit > 0 ? limit : -1);
  std::vector<Change> out;
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    SPINEL_ASSIGN_OR_RETURN(Change change, ReadChange(stmt));
    out.push_back(std::move(change));
  }
}

}  // namespace spinel::server
