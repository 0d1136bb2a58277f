#include "server/datastore/sqlite_datastore.h"

#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/sqlite_migrations.h"
#include "server/datastore/sqlite_session.h"

namespace spinel::server {
namespace {

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

SqliteDatastore::SqliteDatastore(std::string path, SqliteDb db, const common::Clock& clock,
                                 bool read_only)
    : SqlStore(std::make_unique<SqliteSqlDatabase>(std::move(db), read_only), clock),
      path_(std::move(path)),
      read_only_(read_only) {}

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
  std::string db_path = db.path();
  return std::unique_ptr<SqliteDatastore>(
      new SqliteDatastore(std::move(db_path), std::move(db), clock, read_only));
}

absl::StatusOr<int64_t> SqliteDatastore::QueryIntForTest(std::string_view constant_sql) {
  return ReadSql(database(), [&](SqlSession& s) -> absl::StatusOr<int64_t> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(constant_sql));
    if (rows.empty()) return absl::InternalError(StrCat("no result from ", constant_sql));
    return rows[0].Int(0);
  });
}

}  // namespace spinel::server
