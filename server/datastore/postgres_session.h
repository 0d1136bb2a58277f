// The PostgreSQL side of the shared SQL store (sql_session.h): PgSession runs the shared SQL on
// one PgConnection, PgSqlDatabase hands out pooled connections to one database.
//
// Writes: BEGIN, then a transaction-level advisory lock (kPgWriteLockKey) before anything
// else, so writes are serialized across every replica sharing the database exactly as SQLite's
// write lock serializes them across processes: the same checks (identical entries, single-use
// join tokens, approval transitions, the audit hash chain, bundle sequences) hold against
// concurrent replicas, and change revisions commit in increasing order. Reads are single
// statements on a pooled connection and never wait for writers.
//
// Change push: the dialect's announce_change sends NOTIFY on kPgChangeChannel with the new
// revision; PostgreSQL delivers it at commit, and only if the transaction commits.
//
// Threads: PgSession is not thread-safe (it borrows one connection); PgSqlDatabase is.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "server/datastore/postgres_conn.h"
#include "server/datastore/sql_session.h"

namespace spinel::server {

// The transaction-level advisory lock every write transaction (the schema migration too)
// takes first.
inline constexpr int64_t kPgWriteLockKey = 0x5350494e454c;  // "SPINEL"
// The NOTIFY channel of datastore changes; the payload is the new revision.
inline constexpr char kPgChangeChannel[] = "spinel_changes";

const SqlDialect& PgDialect();

using PgSession = ConnectionSession<PgConnection>;

// Runs `body` on `conn` in one transaction holding the write lock, committed when it returns OK.
absl::Status RunPgWrite(PgConnection& conn, const SqlBody& body);

class PgSqlDatabase final : public SqlDatabase {
 public:
  PgSqlDatabase(std::string conninfo, std::string location, size_t max_idle)
      : pool_(std::move(conninfo), std::move(location), max_idle) {}

  absl::Status Read(const SqlBody& body) override;
  absl::Status Write(const SqlBody& body) override;
  PgPool& pool() { return pool_; }

 private:
  PgPool pool_;
};

}  // namespace spinel::server
