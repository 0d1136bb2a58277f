#include "server/datastore/sqlite_db.h"

#include "common/strings.h"

namespace spinel::server {
namespace {

using common::StrAppend;
using common::StrCat;

constexpr size_t kSqlInMessage = 60;  // how much of the statement an error message shows

absl::StatusCode CodeFor(int rc) {
  switch (rc & 0xff) {
    case SQLITE_READONLY:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
      return absl::StatusCode::kUnavailable;
    case SQLITE_CONSTRAINT:
      return (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
                 ? absl::StatusCode::kAlreadyExists
                 : absl::StatusCode::kFailedPrecondition;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return absl::StatusCode::kDataLoss;
    default:
      return absl::StatusCode::kInternal;
  }
}

}  // namespace

// --- Statement ----------------------------------------------------------------------------

void Statement::NoteBindResult(int rc, int index) {
  if (rc != SQLITE_OK && bind_status_.ok()) {
    bind_status_ =
        db_->Error(rc, StrCat("binding parameter ", index, " of ", sqlite3_sql(stmt_.get())));
  }
}

Statement& Statement::BindInt(int index, int64_t value) {
  NoteBindResult(sqlite3_bind_int64(stmt_.get(), index, value), index);
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  NoteBindResult(sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(),
                                     SQLITE_TRANSIENT, SQLITE_UTF8),
                 index);
  return *this;
}

Statement& Statement::BindNull(int index) {
  NoteBindResult(sqlite3_bind_null(stmt_.get(), index), index);
  return *this;
}

Statement& Statement::BindOptionalInt(int index, const std::optional<int64_t>& value) {
  return value.has_value() ? BindInt(index, *value) : BindNull(index);
}

absl::StatusOr<bool> Statement::Step() {
  if (!bind_status_.ok()) return bind_status_;
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, sqlite3_sql(stmt_.get()));
}

absl::Status Statement::Run() {
  while (true) {
    absl::StatusOr<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!*row) return absl::OkStatus();
  }
}

int64_t Statement::ColumnInt(int column) const { return sqlite3_column_int64(stmt_.get(), column); }

std::string Statement::ColumnText(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_.get(), column);
  if (text == nullptr) return "";
  // sqlite3_column_bytes after sqlite3_column_text: the size of the UTF-8 text.
  const int size = sqlite3_column_bytes(stmt_.get(), column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(size));
}

bool Statement::ColumnIsNull(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::optional<int64_t> Statement::ColumnOptionalInt(int column) const {
  if (ColumnIsNull(column)) return std::nullopt;
  return ColumnInt(column);
}

// --- SqlConditions ------------------------------------------------------------------------

void SqlConditions::AddText(const char* condition, std::string value) {
  conditions_.push_back(condition);
  values_.emplace_back(std::move(value));
}

void SqlConditions::AddInt(const char* condition, int64_t value) {
  conditions_.push_back(condition);
  values_.emplace_back(value);
}

std::string SqlConditions::Sql() const {
  std::string sql;
  for (size_t i = 0; i < conditions_.size(); ++i) {
    StrAppend(&sql, i == 0 ? " WHERE " : " AND ", conditions_[i]);
  }
  return sql;
}

void SqlConditions::Bind(Statement& stmt) const {
  for (size_t i = 0; i < values_.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    if (const auto* text = std::get_if<std::string>(&values_[i])) {
      stmt.BindText(index, *text);
    } else {
      stmt.BindInt(index, std::get<int64_t>(values_[i]));
    }
  }
}

// --- SqliteDb -----------------------------------------------------------------------------

absl::StatusOr<SqliteDb> SqliteDb::Open(const std::string& path, const SqliteOpenOptions& options) {
  const int flags =
      SQLITE_OPEN_FULLMUTEX |
      (options.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // SQLite allocates a handle even when opening fails; it is owned (and closed) from here on.
  SqliteDb db(SqliteConnPtr(raw), path);
  if (rc != SQLITE_OK) return db.Error(rc, "");
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  return db;
}

absl::StatusOr<Statement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const int rc =
      sqlite3_prepare_v2(conn_.get(), sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  SqliteStmtPtr stmt(raw);  // owned from here on (null on failure)
  if (rc != SQLITE_OK) return Error(rc, sql);
  return Statement(this, std::move(stmt));
}

absl::Status SqliteDb::Exec(const std::string& sql) {
  // No error-message out-parameter: the message is read from the connection instead, so
  // there is nothing to sqlite3_free.
  const int rc = sqlite3_exec(conn_.get(), sql.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(rc, sql);
  return absl::OkStatus();
}

absl::StatusOr<int64_t> SqliteDb::QueryInt(std::string_view sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError(StrCat("no result from ", sql));
  return stmt->ColumnInt(0);
}

absl::StatusOr<std::string> SqliteDb::QueryText(std::string_view sql) {
  absl::StatusOr<Statement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  absl::StatusOr<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!*row) return absl::InternalError(StrCat("no result from ", sql));
  return stmt->ColumnText(0);
}

int64_t SqliteDb::Changes() const { return sqlite3_changes64(conn_.get()); }

bool SqliteDb::IsReadOnly() const { return sqlite3_db_readonly(conn_.get(), "main") == 1; }

bool SqliteDb::InTransaction() const { return sqlite3_get_autocommit(conn_.get()) == 0; }

absl::Status SqliteDb::Error(int rc, std::string_view sql) const {
  // sqlite3_errmsg accepts a null handle (it then reports "out of memory").
  std::string message =
      StrCat("SQLite database ", path_, ": ", sqlite3_errmsg(conn_.get()), " (code ", rc, ")");
  if (!sql.empty()) {
    StrAppend(&message, " in \"", sql.substr(0, kSqlInMessage),
              sql.size() > kSqlInMessage ? "...\"" : "\"");
  }
  return absl::Status(CodeFor(rc), message);
}

// --- Transaction --------------------------------------------------------------------------

absl::StatusOr<Transaction> Transaction::Begin(SqliteDb& db, Mode mode) {
  absl::Status status = db.Exec(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!status.ok()) return status;
  return Transaction(&db);
}

absl::Status Transaction::Commit() {
  absl::Status status = db_->Exec("COMMIT");
  if (status.ok()) db_ = nullptr;
  return status;  // on failure the destructor rolls back what is left
}

Transaction::~Transaction() {
  // SQLite may already have rolled back on its own (e.g. after SQLITE_FULL); only an open
  // transaction needs ROLLBACK. Its failure leaves nothing to do: an uncommitted transaction
  // is never durable.
  if (db_ != nullptr && db_->InTransaction()) db_->Exec("ROLLBACK").IgnoreError();
}

}  // namespace spinel::server
