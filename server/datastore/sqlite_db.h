// A thin RAII layer over the SQLite C API: SqliteDb owns a connection (sqlite3*), Statement
// owns a prepared statement (sqlite3_stmt*); transactions are RunTransaction's
// (driver_support.h). This is
// the only code that calls sqlite3_close/sqlite3_finalize; nothing else holds raw handles.
//
// Values reach SQL only through bound parameters (Bind*, Query's SqlParams); Exec takes
// constant SQL text for schema and pragmas and must never be given user input.
//
// Errors: every SQLite failure becomes an absl::Status carrying SQLite's message, its result
// code and the database path, with codes chosen by what the caller can do about them:
//   SQLITE_READONLY, FULL, IOERR, CANTOPEN, BUSY, LOCKED, PERM, PROTOCOL, NOLFS -> Unavailable
//   SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY -> AlreadyExists; other CONSTRAINT -> FailedPrecondition
//   SQLITE_CORRUPT, NOTADB -> DataLoss; everything else -> Internal.
//
// Thread-safety: none. A SqliteDb and its Statements must be used by one thread
// at a time (SqliteSqlDatabase serializes with its mutex). Statements borrow the SqliteDb,
// which must outlive them.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/datastore/driver_support.h"
#include "server/datastore/sql_value.h"

namespace spinel::server {

using SqliteConnPtr = std::unique_ptr<sqlite3, CFreeDeleter<sqlite3_close_v2>>;
using SqliteStmtPtr = std::unique_ptr<sqlite3_stmt, CFreeDeleter<sqlite3_finalize>>;

class SqliteDb;

// A prepared statement. Bind* record the first binding error, which Step/Run then return.
// Parameter and column indexes are those of SQLite: parameters from 1, columns from 0.
class Statement {
 public:
  Statement(Statement&&) noexcept = default;
  Statement& operator=(Statement&&) noexcept = default;

  Statement& BindInt(int index, int64_t value);
  Statement& BindText(int index, std::string_view value);  // copied
  Statement& BindNull(int index);
  // Binds parameters 1..params.size(); a bool as 0 or 1.
  Statement& BindAll(const SqlParams& params);

  // Advances to the next row: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps until done, ignoring rows.
  absl::Status Run();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;  // "" for NULL
  bool ColumnIsNull(int column) const;
  // The current row as values: integers as int64_t, text (and anything else) as text.
  void AppendRow(std::vector<SqlValue>& values) const;

 private:
  friend class SqliteDb;
  Statement(SqliteDb* db, SqliteStmtPtr stmt) : db_(db), stmt_(std::move(stmt)) {}
  void NoteBindResult(int rc, int index);

  SqliteDb* db_;  // borrowed
  SqliteStmtPtr stmt_;
  absl::Status bind_status_;
};

struct SqliteOpenOptions {
  bool read_only = false;  // SQLITE_OPEN_READONLY; otherwise read-write, created if missing
  int busy_timeout_ms = 5000;
};

// One SQLite connection with extended result codes and a busy timeout.
class SqliteDb {
 public:
  // `path` is a file name or ":memory:". A file that exists but cannot be written is opened
  // read-only even without options.read_only (see IsReadOnly).
  static absl::StatusOr<SqliteDb> Open(const std::string& path, const SqliteOpenOptions& options);

  SqliteDb(SqliteDb&&) noexcept = default;
  SqliteDb& operator=(SqliteDb&&) noexcept = default;

  absl::StatusOr<Statement> Prepare(std::string_view sql);
  // Runs one statement of the shared SQL (sql_session.h) with `params` bound as $1, $2, ...
  // and returns all its rows and how many rows it changed. SQLite would take "$1" for a
  // *named* parameter (numbered by first appearance), so every $<digits> outside quotes is
  // rewritten to ?<digits>, which SQLite numbers as written. InvalidArgument when `params`
  // does not match the statement's parameters.
  absl::StatusOr<SqlRows> Query(std::string_view sql, const SqlParams& params);
  // Runs constant SQL (possibly several statements, no parameters).
  absl::Status Exec(const std::string& sql);
  // Runs constant SQL returning one integer, e.g. "PRAGMA user_version".
  absl::StatusOr<int64_t> QueryInt(std::string_view sql);
  // Runs constant SQL returning one text value, e.g. "PRAGMA journal_mode=WAL".
  absl::StatusOr<std::string> QueryText(std::string_view sql);

  // Rows changed by the last INSERT/UPDATE/DELETE.
  int64_t Changes() const;
  bool IsReadOnly() const;
  bool InTransaction() const;
  // True while a transaction is open (SQLite may have rolled back on its own, e.g. after
  // SQLITE_FULL): what RunTransaction must roll back.
  bool CanRollBack() const { return InTransaction(); }
  const std::string& path() const { return path_; }

  // The Status for result code `rc` of an operation on `sql` (may be empty).
  absl::Status Error(int rc, std::string_view sql) const;

 private:
  SqliteDb(SqliteConnPtr conn, std::string path) : conn_(std::move(conn)), path_(std::move(path)) {}

  SqliteConnPtr conn_;
  std::string path_;
};

}  // namespace spinel::server
