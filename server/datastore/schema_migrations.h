// The one schema-migration runner of the SQL store, for both engines. The DDL is written once
// (sql_schema.h, rendered per engine); each engine says only where it keeps the schema version
// (SchemaVersionSql); applying and checking are the same code.
//
// A schema is an ordered list of migrations numbered 1..N. The database records the version
// it is at (0 when new). MigrateSchema applies, in order, every migration newer than that and
// records N; it runs inside the caller's write transaction (SqlDatabase::Write, or
// RunSqliteWrite / RunPgWrite), so all of it applies or nothing does, and processes or replicas
// opening the same database at once migrate once. A database at a newer version than the list
// knows is refused rather than guessed at.
//
// Adding to the schema: append a migration with the next version; never edit a released one.
// All functions are pure but for those taking a session; those are as thread-safe as it is.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "server/datastore/sql_session.h"

namespace spinel::server {

struct SchemaMigration {
  int version;              // 1, 2, 3, ... without gaps
  const char* description;  // for error messages
  const char* sql;          // constant DDL, possibly several statements
};

// Where an engine keeps its schema version.
struct SchemaVersionSql {
  const char* prepare;                // run before reading it (nullptr: nothing), e.g. CREATE TABLE
  const char* read;                   // one row, one integer column
  std::string (*write)(int version);  // the constant statement that records `version`
};

// InvalidArgument unless the list is numbered 1..N; `engine` ("SQLite", "PostgreSQL") names
// the list in the message.
absl::Status CheckMigrationNumbering(std::span<const SchemaMigration> migrations,
                                     std::string_view engine);

// The version the list leads to (0 for an empty list).
int LatestMigrationVersion(std::span<const SchemaMigration> migrations);

// FailedPrecondition: `database` (e.g. "SQLite database /var/lib/spinel/db") is at schema
// `version`, newer than the `latest` this build knows.
absl::Status SchemaTooNew(std::string_view database, int64_t version, int latest);

// Applies the pending migrations as described above, inside the caller's write transaction.
// Errors: InvalidArgument for a list not numbered 1..N, FailedPrecondition for a database
// newer than the list, else the engine's error prefixed with the failing migration's version
// and description ("applying schema migration 4 (typo): ...").
absl::Status MigrateSchema(SqlSession& session, const SchemaVersionSql& version,
                           std::span<const SchemaMigration> migrations, std::string_view database);

// For a database that cannot be written: OK only if it is exactly at the list's latest
// version; FailedPrecondition otherwise (too new, or needing a migration it cannot get).
absl::Status CheckSchemaVersion(SqlSession& session, const SchemaVersionSql& version,
                                std::span<const SchemaMigration> migrations,
                                std::string_view database);

}  // namespace spinel::server
