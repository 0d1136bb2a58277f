// A thin RAII layer over the SQLite C API: SqliteDb owns a connection (sqlite3*), Statement
// owns a prepared statement (sqlite3_stmt*), Transaction rolls back unless committed. This is
// the only code that calls sqlite3_close/sqlite3_finalize; nothing else holds raw handles.
//
// Values reach SQL only through bound parameters (Bind*); Exec takes constant SQL text for
// schema and pragmas and must never be given user input.
//
// Errors: every SQLite failure becomes an absl::Status carrying SQLite's message, its result
// code and the database path, with codes chosen by what the caller can do about them:
//   SQLITE_READONLY, FULL, IOERR, CANTOPEN, BUSY, LOCKED, PERM, PROTOCOL, NOLFS -> Unavailable
//   SQLITE_CONSTRAINT_UNIQUE / PRIMARYKEY -> AlreadyExists; other CONSTRAINT -> FailedPrecondition
//   SQLITE_CORRUPT, NOTADB -> DataLoss; everything else -> Internal.
//
// Thread-safety: none. A SqliteDb, its Statements and Transactions must be used by one thread
// at a time (SqliteDatastore serializes with its mutex). Statements and Transactions borrow
// the SqliteDb, which must outlive them.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace spinel::server {

struct SqliteCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct SqliteFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using SqliteConnPtr = std::unique_ptr<sqlite3, SqliteCloser>;
using SqliteStmtPtr = std::unique_ptr<sqlite3_stmt, SqliteFinalizer>;

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
  Statement& BindOptionalInt(int index, const std::optional<int64_t>& value);

  // Advances to the next row: true when a row is available, false when done.
  absl::StatusOr<bool> Step();
  // Steps until done, ignoring rows.
  absl::Status Run();

  int64_t ColumnInt(int column) const;
  std::string ColumnText(int column) const;  // "" for NULL
  bool ColumnIsNull(int column) const;
  std::optional<int64_t> ColumnOptionalInt(int column) const;

  // The row accessors the shared decoders of records.h read through (as PgRow's).
  std::string Text(int column) const { return ColumnText(column); }
  int64_t Int(int column) const { return ColumnInt(column); }
  bool Bool(int column) const { return ColumnInt(column) != 0; }  // stored as 0 or 1
  bool IsNull(int column) const { return ColumnIsNull(column); }

 private:
  friend class SqliteDb;
  Statement(SqliteDb* db, SqliteStmtPtr stmt) : db_(db), stmt_(std::move(stmt)) {}
  void NoteBindResult(int rc, int index);

  SqliteDb* db_;  // borrowed
  SqliteStmtPtr stmt_;
  absl::Status bind_status_;
};

// Builds a WHERE clause from constant conditions with anonymous "?" parameters, e.g.
//   SqlConditions where;
//   if (filter.zone) where.AddText("zone = ?", *filter.zone);
//   sql += where.Sql();  // " WHERE zone = ?" or ""
//   where.Bind(stmt);    // binds parameters 1..Count()
// Conditions must be constant SQL; values only ever reach SQL as bound parameters.
class SqlConditions {
 public:
  void AddText(const char* condition, std::string value);
  void AddInt(const char* condition, int64_t value);
  std::string Sql() const;
  void Bind(Statement& stmt) const;
  int Count() const { return static_cast<int>(conditions_.size()); }

 private:
  std::vector<const char*> conditions_;
  std::vector<std::variant<int64_t, std::string>> values_;
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
  const std::string& path() const { return path_; }

  // The Status for result code `rc` of an operation on `sql` (may be empty).
  absl::Status Error(int rc, std::string_view sql) const;

 private:
  SqliteDb(SqliteConnPtr conn, std::string path) : conn_(std::move(conn)), path_(std::move(path)) {}

  SqliteConnPtr conn_;
  std::string path_;
};

// A transaction that rolls back when destroyed without a successful Commit.
class Transaction {
 public:
  enum class Mode {
    kDeferred,   // BEGIN: takes the write lock at the first write (use for reads)
    kImmediate,  // BEGIN IMMEDIATE: takes the write lock now (use for every write)
  };
  static absl::StatusOr<Transaction> Begin(SqliteDb& db, Mode mode);

  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  absl::Status Commit();

 private:
  explicit Transaction(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;  // borrowed; null once committed or rolled back
};

}  // namespace spinel::server
