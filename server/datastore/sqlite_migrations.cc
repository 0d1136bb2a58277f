#include "server/datastore/sqlite_migrations.h"

#include <string>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/sql_schema.h"
#include "server/datastore/sqlite_session.h"

namespace spinel::server {
namespace {

using common::StrCat;

std::string WriteUserVersion(int version) {
  // PRAGMA takes no bound parameters; `version` is a number from a constant list.
  return StrCat("PRAGMA user_version = ", version);
}

// The version lives in the file header's user_version (0 for a new file).
constexpr SchemaVersionSql kUserVersion{nullptr, "PRAGMA user_version", WriteUserVersion};

std::string DatabaseName(const SqliteDb& db) { return StrCat("SQLite database ", db.path()); }

}  // namespace

std::span<const SqliteMigration> SqliteSchemaMigrations() {
  return SchemaMigrations(SqlEngine::kSqlite);
}

int LatestSqliteSchemaVersion() { return LatestMigrationVersion(SqliteSchemaMigrations()); }

absl::Status ApplySqliteMigrations(SqliteDb& db, std::span<const SqliteMigration> migrations) {
  // Read inside the write transaction: two processes opening the same new file migrate once.
  return RunSqliteWrite(db, [&](SqlSession& session) {
    return MigrateSchema(session, kUserVersion, migrations, DatabaseName(db));
  });
}

absl::Status CheckSqliteSchemaVersion(SqliteDb& db, std::span<const SqliteMigration> migrations) {
  SqliteSession session(db, SqliteDialect());
  return CheckSchemaVersion(session, kUserVersion, migrations, DatabaseName(db));
}

}  // namespace spinel::server
