#include "server/datastore/sqlite_db.h"

#include <cctype>

#include "common/strings.h"

namespace spinel::server {
namespace {

using common::StrAppend;
using common::StrCat;

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

// `sql` with every $<digits> placeholder outside '...' and "..." as ?<digits>.
std::string SqlitePlaceholders(std::string_view sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;  // the quote character of the literal or identifier we are in, if any
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: same result
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '$' && i + 1 < sql.size() &&
               std::isdigit(static_cast<unsigned char>(sql[i + 1])) != 0) {
      out += '?';
      continue;
    }
    out += c;
  }
  return out;
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

Statement& Statement::BindAll(const SqlParams& params) {
  const std::vector<SqlValue>& values = params.values();
  for (size_t i = 0; i < values.size(); ++i) {
    const int index = static_cast<int>(i) + 1;
    const SqlValue& v = values[i];
    if (const auto* text = std::get_if<std::string>(&v)) {
      BindText(index, *text);
    } else if (const auto* number = std::get_if<int64_t>(&v)) {
      BindInt(index, *number);
    } else if (const auto* flag = std::get_if<bool>(&v)) {
      BindInt(index, *flag ? 1 : 0);
    } else {
      BindNull(index);
    }
  }
  return *this;
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

void Statement::AppendRow(std::vector<SqlValue>& values) const {
  const int columns = sqlite3_column_count(stmt_.get());
  for (int c = 0; c < columns; ++c) {
    switch (sqlite3_column_type(stmt_.get(), c)) {
      case SQLITE_NULL:
        values.emplace_back(std::monostate{});
        break;
      case SQLITE_INTEGER:
        values.emplace_back(ColumnInt(c));
        break;
      default:
        values.emplace_back(ColumnText(c));
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

absl::StatusOr<SqlRows> SqliteDb::Query(std::string_view sql, const SqlParams& params) {
  absl::StatusOr<Statement> stmt = Prepare(SqlitePlaceholders(sql));
  if (!stmt.ok()) return stmt.status();
  const int expected = sqlite3_bind_parameter_count(stmt->stmt_.get());
  if (params.size() != expected) {
    return absl::InvalidArgumentError(StrCat("SQLite database ", path_, ": statement takes ",
                                             expected, " parameters, given ", params.size(),
                                             SqlExcerpt(sql)));
  }
  stmt->BindAll(params);
  const int columns = sqlite3_column_count(stmt->stmt_.get());
  std::vector<SqlValue> values;
  while (true) {
    absl::StatusOr<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    stmt->AppendRow(values);
  }
  return SqlRows(columns, std::move(values), Changes());
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
  StrAppend(&message, SqlExcerpt(sql));
  return absl::Status(CodeFor(rc), message);
}

}  // namespace spinel::server
