// The SQLite schema (sql_schema.h), as an ordered list of migrations applied by the one runner
// of schema_migrations.h. The schema version lives in PRAGMA user_version: 0 for a new file, N
// once migration N is applied. Opening a database applies every pending migration in one
// BEGIN IMMEDIATE transaction (all or nothing), so a crash mid-way leaves the old version
// intact. A database whose version is newer than the last migration this build knows is
// refused rather than guessed at.
//
// Adding to the schema: append a migration with the next version; never edit a released one.
//
// Functions here are not thread-safe with respect to `db` (see sqlite_db.h).
#pragma once

#include <span>

#include "absl/status/status.h"
#include "server/datastore/schema_migrations.h"
#include "server/datastore/sqlite_db.h"

namespace spinel::server {

using SqliteMigration = SchemaMigration;

// Spinel's migrations, in version order.
std::span<const SqliteMigration> SqliteSchemaMigrations();
// The version Spinel's migrations lead to.
int LatestSqliteSchemaVersion();

// Applies the migrations newer than the database's user_version, in order, and sets
// user_version to the last one, all in one BEGIN IMMEDIATE transaction. FailedPrecondition if
// the database is newer than `migrations` know; InvalidArgument if the list is not numbered
// 1..N; the SQLite error (naming the migration) if one fails, with nothing applied.
absl::Status ApplySqliteMigrations(SqliteDb& db, std::span<const SqliteMigration> migrations);

// For a database that cannot be written: OK only if it is exactly at the latest version of
// `migrations`; FailedPrecondition otherwise (too new, or needing a migration it cannot get).
absl::Status CheckSqliteSchemaVersion(SqliteDb& db, std::span<const SqliteMigration> migrations);

}  // namespace spinel::server
