// The PostgreSQL schema, as an ordered list of migrations (the same tables as the SQLite
// schema of sqlite_migrations.h, in PostgreSQL types). The version lives in the one-row table
// spinel_schema: absent for a new database, N once migration N is applied. Opening applies
// every pending migration in one transaction (PostgreSQL DDL is transactional: all or
// nothing) under the datastore's write lock (kPgWriteLockKey), so several replicas starting
// at once migrate once. A database newer than this build is refused rather than guessed at.
//
// Adding to the schema: append a migration with the next version; never edit a released one.
#pragma once

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "server/datastore/postgres_conn.h"
#include "server/datastore/schema_migrations.h"

namespace spinel::server {

// The transaction-level advisory lock every datastore write transaction takes first: writes
// are serialized across all replicas, as SQLite's write lock serializes them across processes.
inline constexpr int64_t kPgWriteLockKey = 0x5350494e454c;  // "SPINEL"

using PgMigration = SchemaMigration;

// Spinel's migrations, in version order.
std::span<const PgMigration> PgSchemaMigrations();
int LatestPgSchemaVersion();

// Applies the migrations newer than the database's version, in order, in one transaction.
// FailedPrecondition if the database is newer than `migrations` know; InvalidArgument if the
// list is not numbered 1..N; the PostgreSQL error (naming the migration) if one fails, with
// nothing applied.
absl::Status ApplyPgMigrations(PgConnection& conn, std::span<const PgMigration> migrations);

}  // namespace spinel::server
