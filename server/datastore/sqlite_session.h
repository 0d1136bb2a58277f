// The SQLite side of the shared SQL store (sql_session.h): SqliteSession runs the shared SQL on
// one SqliteDb, SqliteSqlDatabase owns the connection and serializes its users.
//
// Writes: BEGIN IMMEDIATE takes SQLite's write lock at once, so writes are serialized across
// every process sharing the file (busy_timeout bounds the wait: Unavailable after it). A
// datastore opened read-only refuses every write with Unavailable naming the file, before
// touching it.
//
// Threads: SqliteSession is not thread-safe (it borrows the connection); SqliteSqlDatabase is:
// one connection behind a mutex, held for each whole Read or Write.
#pragma once

#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/mutex.h"
#include "server/datastore/sql_session.h"
#include "server/datastore/sqlite_db.h"

namespace spinel::server {

const SqlDialect& SqliteDialect();

using SqliteSession = ConnectionSession<SqliteDb>;

// Runs `body` in a BEGIN IMMEDIATE transaction on `db`, committed when it returns OK.
absl::Status RunSqliteWrite(SqliteDb& db, const SqlBody& body);

class SqliteSqlDatabase final : public SqlDatabase {
 public:
  SqliteSqlDatabase(SqliteDb db, bool read_only)
      : path_(db.path()), read_only_(read_only), db_(std::move(db)) {}

  absl::Status Read(const SqlBody& body) override;
  absl::Status Write(const SqlBody& body) override;
  bool read_only() const { return read_only_; }

 private:
  const std::string path_;
  const bool read_only_;
  common::Mutex mu_;
  SqliteDb db_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spinel::server
