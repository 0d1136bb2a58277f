// SqliteDatastore: the embedded Datastore (datastore.h) on one SQLite file: the shared SQL
// store (sql_store.h) on the SQLite adapter (sqlite_session.h). This class adds only opening.
//
// Durability: the file runs in WAL mode with synchronous=FULL, so every commit is fsynced
// before the method returns OK; an acknowledged write survives kill -9 and power loss. Every
// write is one BEGIN IMMEDIATE transaction: a failed write (read-only file, full disk, I/O
// error) rolls back and leaves the stored data as it was, and reads keep working.
//
// Schema: versioned by PRAGMA user_version and migrated at Open (sqlite_migrations.h). A
// database written by a newer build is refused.
//
// Read-only use: with SqliteOpenOptions::read_only, or when the file exists but cannot be
// written, the datastore opens read-only (is_read_only()): reads work, every write returns
// Unavailable naming the file. SQLite still needs to create the "-shm" and "-wal" files
// beside a WAL database to read it, unless they exist; a directory it cannot write is
// reported at Open.
//
// Threading: one connection, guarded by a mutex (SqliteSqlDatabase); every method holds it for
// its whole transaction, so calls are serialized within the process. Several processes (or several
// SqliteDatastore objects) may open the same file: SQLite's locks serialize their writes and
// busy_timeout_ms bounds the wait, after which the call fails with Unavailable.
//
// The clock (borrowed, must outlive the datastore) supplies created_at/updated_at/used_at
// and "now" for join-token expiry.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/datastore/sql_store.h"
#include "server/datastore/sqlite_db.h"

namespace spinel::server {

class SqliteDatastore final : public SqlStore {
 public:
  // Opens (creating if needed) the database at `path`, or a private in-memory database for
  // ":memory:", and migrates it to the current schema. Errors: FailedPrecondition for a schema
  // newer than this build (or an old one that is read-only), Unavailable when the file cannot
  // be opened or read, DataLoss when it is not a database.
  static absl::StatusOr<std::unique_ptr<SqliteDatastore>> Open(
      const std::string& path, const common::Clock& clock,
      const SqliteOpenOptions& options = SqliteOpenOptions());

  bool is_read_only() const { return read_only_; }
  const std::string& path() const { return path_; }
  // Runs constant SQL returning one integer on this datastore's connection, e.g.
  // "PRAGMA synchronous"; for tests that check connection settings.
  absl::StatusOr<int64_t> QueryIntForTest(std::string_view constant_sql);

 private:
  SqliteDatastore(std::string path, SqliteDb db, const common::Clock& clock, bool read_only);

  const std::string path_;
  const bool read_only_;
};

}  // namespace spinel::server
