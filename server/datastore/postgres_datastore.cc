#include "server/datastore/postgres_datastore.h"

#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/sql_schema.h"

namespace spinel::server {
namespace {

using common::StrCat;

constexpr size_t kMaxIdleConnections = 8;

std::string WriteSchemaTable(int version) {
  // `version` is a number from the constant migration list.
  return StrCat("INSERT INTO spinel_schema (one, version) VALUES (1, ", version,
                ") ON CONFLICT (one) DO UPDATE SET version = excluded.version");
}

// The schema version lives in the one-row table spinel_schema (absent for a new database).
constexpr SchemaVersionSql kSchemaTable{
    "CREATE TABLE IF NOT EXISTS spinel_schema (one INTEGER PRIMARY KEY CHECK (one = 1), "
    "version INTEGER NOT NULL)",
    "SELECT COALESCE(MAX(version), 0) FROM spinel_schema", WriteSchemaTable};

// Applies the pending migrations in one transaction (PostgreSQL DDL is transactional) under
// the write lock, so several replicas starting at once migrate once.
absl::Status Migrate(PgPool& pool) {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool.Acquire());
  return RunPgWrite(*conn, [&](SqlSession& session) {
    return MigrateSchema(session, kSchemaTable, SchemaMigrations(SqlEngine::kPostgres),
                         StrCat("PostgreSQL database ", conn->location()));
  });
}

}  // namespace

PostgresDatastore::PostgresDatastore(std::unique_ptr<PgSqlDatabase> db, PgPool& pool,
                                     const common::Clock& clock)
    : SqlStore(std::move(db), clock), pool_(pool) {}

absl::StatusOr<std::unique_ptr<PostgresDatastore>> PostgresDatastore::Open(
    const std::string& conninfo, const common::Clock& clock) {
  SPINEL_ASSIGN_OR_RETURN(std::string location, PgLocation(conninfo));
  auto db = std::make_unique<PgSqlDatabase>(conninfo, location, kMaxIdleConnections);
  SPINEL_RETURN_IF_ERROR(Migrate(db->pool()));
  PgPool& pool = db->pool();
  // Private constructor: not reachable through std::make_unique.
  return std::unique_ptr<PostgresDatastore>(new PostgresDatastore(std::move(db), pool, clock));
}

}  // namespace spinel::server
