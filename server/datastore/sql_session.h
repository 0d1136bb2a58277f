// The small interface the shared SQL store (sql_store.h) runs its table logic on, and that each
// engine adapter implements once: SQLite (sqlite_session.h) and PostgreSQL
// (postgres_session.h).
//
// SQL text is written once for both engines, in the subset they share:
//   - placeholders are numbered, $1, $2, ... (the SQLite driver rewrites them to ?1, ?2);
//     every statement is given exactly the parameters it names;
//   - upserts are `INSERT ... ON CONFLICT (key) DO UPDATE SET c = excluded.c`, and changed rows
//     come back with `RETURNING` (both engines, SQLite since 3.35);
//   - a LIMIT is written only when there is one (SQLite and PostgreSQL spell "no limit"
//     differently);
//   - what still differs is a SqlDialect member.
//
// SqlDatabase runs a piece of table logic either as reads (Read) or as one write transaction
// (Write) that holds the database's write lock, so writes are serialized across every process
// and replica sharing the database: SQLite's BEGIN IMMEDIATE, or PostgreSQL's BEGIN plus a
// transaction-level advisory lock. Write commits when the body returns OK and rolls back
// otherwise; a failed commit is returned and changes nothing.
//
// Threads: SqlDatabase is thread-safe; a SqlSession is handed to one body on one thread and
// must not be kept after the body returns. Errors are the engines' (sqlite_db.h,
// postgres_conn.h): Unavailable, AlreadyExists, FailedPrecondition, Aborted, DataLoss,
// Internal.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/datastore/sql_value.h"

namespace spinel::server {

// What the two engines spell differently.
struct SqlDialect {
  const char* engine;  // "SQLite", "PostgreSQL": for messages
  // A subquery listing the text items of the JSON array bound as `$1`, one column per row.
  const char* json_array_items;
  // Run in a write transaction after a change-log record with revision $1 is written (nullptr:
  // nothing to do). PostgreSQL: NOTIFY the other replicas, delivered at commit.
  const char* announce_change;
};

class SqlSession {
 public:
  virtual ~SqlSession() = default;

  virtual const SqlDialect& dialect() const = 0;
  // Runs one statement with bound parameters ($1 is params' first).
  absl::StatusOr<SqlRows> Query(std::string_view sql, const SqlParams& params = SqlParams()) {
    return Execute(sql, params);
  }
  // Runs constant SQL (possibly several statements, no parameters): schema only, never input.
  virtual absl::Status ExecScript(const std::string& sql) = 0;

 private:
  virtual absl::StatusOr<SqlRows> Execute(std::string_view sql, const SqlParams& params) = 0;
};

// A SqlSession on one borrowed connection of an engine's driver (SqliteDb, PgConnection): each
// runs the shared SQL with SqlParams (Query) and constant scripts (Exec) itself.
template <typename Connection>
class ConnectionSession final : public SqlSession {
 public:
  ConnectionSession(Connection& conn, const SqlDialect& dialect) : conn_(conn), dialect_(dialect) {}
  const SqlDialect& dialect() const override { return dialect_; }
  absl::Status ExecScript(const std::string& sql) override { return conn_.Exec(sql); }

 private:
  absl::StatusOr<SqlRows> Execute(std::string_view sql, const SqlParams& params) override {
    return conn_.Query(sql, params);
  }
  Connection& conn_;
  const SqlDialect& dialect_;
};

using SqlBody = std::function<absl::Status(SqlSession&)>;

class SqlDatabase {
 public:
  virtual ~SqlDatabase() = default;
  // Runs `body` for reading: each statement sees what was committed when it started.
  virtual absl::Status Read(const SqlBody& body) = 0;
  // Runs `body` in one write transaction holding the write lock (see above).
  virtual absl::Status Write(const SqlBody& body) = 0;
};

// Runs `body` (returning absl::Status or absl::StatusOr<T>) through `run` (SqlDatabase::Read
// or ::Write) and returns what it returned, or the transaction's own error.
template <typename Run, typename Body>
std::invoke_result_t<Body&, SqlSession&> RunSqlBody(Run run, Body& body) {
  using Result = std::invoke_result_t<Body&, SqlSession&>;
  if constexpr (std::is_same_v<Result, absl::Status>) {
    return run(SqlBody(std::ref(body)));
  } else {
    std::optional<Result> result;
    absl::Status status = run([&](SqlSession& session) {
      result.emplace(body(session));
      return result->status();
    });
    if (!status.ok()) return status;
    return *std::move(result);
  }
}

template <typename Body>
std::invoke_result_t<Body&, SqlSession&> ReadSql(SqlDatabase& db, Body body) {
  return RunSqlBody([&db](const SqlBody& b) { return db.Read(b); }, body);
}

template <typename Body>
std::invoke_result_t<Body&, SqlSession&> WriteSql(SqlDatabase& db, Body body) {
  return RunSqlBody([&db](const SqlBody& b) { return db.Write(b); }, body);
}

}  // namespace spinel::server
