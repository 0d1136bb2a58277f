#include "server/datastore/postgres_conn.h"

#include <cstdlib>
#include <utility>

#include "common/strings.h"

namespace spinel::server {
namespace {

using common::StrAppend;
using common::StrCat;

absl::StatusCode CodeForSqlState(std::string_view state) {
  if (state == "23505") return absl::StatusCode::kAlreadyExists;
  if (state == "40001" || state == "40P01") return absl::StatusCode::kAborted;
  if (state == "25006") return absl::StatusCode::kUnavailable;  // read-only transaction
  if (state == "XX001" || state == "XX002") return absl::StatusCode::kDataLoss;
  const std::string_view cls = state.substr(0, 2);
  if (cls == "23") return absl::StatusCode::kFailedPrecondition;
  if (cls == "08" || cls == "53" || cls == "57" || cls == "58") {
    return absl::StatusCode::kUnavailable;
  }
  return absl::StatusCode::kInternal;
}

// libpq messages end with a newline; messages here are one line.
std::string OneLine(const char* message) {
  std::string out = message != nullptr ? message : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  for (char& c : out) {
    if (c == '\n') c = ' ';
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> PgLocation(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  if (options == nullptr) {
    std::string message = OneLine(error);
    PQfreemem(error);
    return absl::InvalidArgumentError(StrCat("invalid PostgreSQL connection string: ", message));
  }
  std::string user, host, port, dbname;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string_view key = o->keyword;
    if (key == "user") user = o->val;
    if (key == "host") host = o->val;
    if (key == "port") port = o->val;
    if (key == "dbname") dbname = o->val;
  }
  PQconninfoFree(options);
  std::string out = "postgres://";
  if (!user.empty()) StrAppend(&out, user, "@");
  StrAppend(&out, host.empty() ? "localhost" : host);
  if (!port.empty()) StrAppend(&out, ":", port);
  StrAppend(&out, "/", dbname);
  return out;
}

namespace {

// The values of `params` as libpq text parameters (nullopt: NULL).
std::vector<std::optional<std::string>> TextParams(const SqlParams& params) {
  std::vector<std::optional<std::string>> out;
  out.reserve(params.values().size());
  for (const SqlValue& v : params.values()) {
    if (const auto* text = std::get_if<std::string>(&v)) {
      out.emplace_back(*text);
    } else if (const auto* number = std::get_if<int64_t>(&v)) {
      out.emplace_back(std::to_string(*number));
    } else if (const auto* flag = std::get_if<bool>(&v)) {
      out.emplace_back(*flag ? "true" : "false");
    } else {
      out.emplace_back(std::nullopt);
    }
  }
  return out;
}

SqlRows ToRows(const PGresult* result) {
  const int rows = PQntuples(result);
  const int columns = PQnfields(result);
  std::vector<SqlValue> values;
  values.reserve(static_cast<size_t>(rows) * static_cast<size_t>(columns));
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(result, r, c) == 1) {
        values.emplace_back(std::monostate{});
      } else {
        values.emplace_back(
            std::string(PQgetvalue(result, r, c), static_cast<size_t>(PQgetlength(result, r, c))));
      }
    }
  }
  // PQcmdTuples takes a non-const result but only reads it.
  const int64_t affected = std::strtoll(PQcmdTuples(const_cast<PGresult*>(result)), nullptr, 10);
  return SqlRows(columns, std::move(values), affected);
}

}  // namespace

// --- PgConnection -------------------------------------------------------------------------

absl::StatusOr<PgConnection> PgConnection::Connect(const std::string& conninfo,
                                                   const std::string& location) {
  // expand_dbname: `dbname` is the whole connection string; keywords after it override it,
  // keywords before it are defaults it may override (a bounded connect timeout).
  const char* keywords[] = {"connect_timeout", "dbname", "client_encoding", nullptr};
  const char* values[] = {"10", conninfo.c_str(), "UTF8", nullptr};
  PgConnPtr conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
  if (conn == nullptr) {
    return absl::ResourceExhaustedError("libpq could not allocate a connection");
  }
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    return absl::UnavailableError(StrCat("PostgreSQL database ", location, ": cannot connect: ",
                                         OneLine(PQerrorMessage(conn.get()))));
  }
  // Server notices ("relation already exists, skipping") are not errors; libpq would print
  // them on stderr.
  PQsetNoticeProcessor(
      conn.get(), [](void*, const char*) {}, nullptr);
  return PgConnection(std::move(conn), location);
}

absl::Status PgConnection::Error(const PGresult* result, std::string_view sql) const {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string detail = result != nullptr ? OneLine(PQresultErrorMessage(result)) : "";
  if (detail.empty()) detail = OneLine(PQerrorMessage(conn_.get()));
  std::string message = StrCat("PostgreSQL database ", location_, ": ", detail);
  absl::StatusCode code = absl::StatusCode::kUnavailable;  // no SQLSTATE: the connection
  if (state != nullptr) {
    StrAppend(&message, " (SQLSTATE ", state, ")");
    code = CodeForSqlState(state);
  }
  if (!healthy()) code = absl::StatusCode::kUnavailable;
  StrAppend(&message, SqlExcerpt(sql));
  return absl::Status(code, message);
}

absl::StatusOr<SqlRows> PgConnection::Query(std::string_view sql, const SqlParams& params) {
  const std::vector<std::optional<std::string>> text = TextParams(params);
  std::vector<const char*> values;
  values.reserve(text.size());
  for (const auto& v : text) values.push_back(v ? v->c_str() : nullptr);
  const std::string statement(sql);
  PgResultPtr result(PQexecParams(conn_.get(), statement.c_str(), params.size(), nullptr,
                                  values.data(), nullptr, nullptr, /*resultFormat=*/0));
  const ExecStatusType status =
      result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return Error(result.get(), sql);
  return ToRows(result.get());
}

absl::Status PgConnection::Exec(const std::string& sql) {
  PgResultPtr result(PQexec(conn_.get(), sql.c_str()));
  const ExecStatusType status =
      result != nullptr ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
  if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return Error(result.get(), sql);
  return absl::OkStatus();
}

// --- PgPool -------------------------------------------------------------------------------

PgPool::Lease::~Lease() {
  if (pool_ != nullptr && conn_ != nullptr) pool_->Release(std::move(conn_));
}

absl::StatusOr<PgPool::Lease> PgPool::Acquire() {
  while (true) {
    std::unique_ptr<PgConnection> conn;
    {
      common::MutexLock lock(mu_);
      if (idle_.empty()) break;
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    // A server that closed an idle connection (restart, pg_terminate_backend) left EOF on its
    // socket: reading it marks the connection bad, and it is dropped here rather than failing
    // the caller's statement.
    if (PQconsumeInput(conn->raw()) == 1 && conn->healthy()) return Lease(this, std::move(conn));
  }
  absl::StatusOr<PgConnection> conn = PgConnection::Connect(conninfo_, location_);
  if (!conn.ok()) return conn.status();
  return Lease(this, std::make_unique<PgConnection>(*std::move(conn)));
}

void PgPool::Release(std::unique_ptr<PgConnection> conn) {
  if (!conn->healthy() || conn->InTransaction()) return;  // closed on the way out
  common::MutexLock lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(conn));
}

}  // namespace spinel::server
