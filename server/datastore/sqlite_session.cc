#include "server/datastore/sqlite_session.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {

const SqlDialect& SqliteDialect() {
  static const SqlDialect kDialect{
      .engine = "SQLite",
      .json_array_items = "SELECT value FROM json_each($1)",
      .announce_change = nullptr,  // SQLite has no notifications
  };
  return kDialect;
}

absl::Status RunSqliteWrite(SqliteDb& db, const SqlBody& body) {
  SqliteSession session(db, SqliteDialect());
  // IMMEDIATE: the write lock now, not at the first write (no deadlock between two readers
  // that both want to write).
  return RunTransaction(db, "BEGIN IMMEDIATE", [&] { return body(session); });
}

absl::Status SqliteSqlDatabase::Read(const SqlBody& body) {
  common::MutexLock lock(mu_);
  SqliteSession session(db_, SqliteDialect());
  return body(session);
}

absl::Status SqliteSqlDatabase::Write(const SqlBody& body) {
  if (read_only_) {
    return absl::UnavailableError(common::StrCat("SQLite database ", path_,
                                                 ": attempt to write a readonly database "
                                                 "(opened read-only: the file cannot be written)"));
  }
  common::MutexLock lock(mu_);
  return RunSqliteWrite(db_, body);
}

}  // namespace spinel::server
