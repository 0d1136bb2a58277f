// The engine-independent part of applying a schema as an ordered list of migrations, shared by
// sqlite_migrations.h and postgres_migrations.h (each keeps its own version storage, locking
// and transaction). All functions are pure but for RunPendingMigrations, which runs `exec`.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace spinel::server {

struct SchemaMigration {
  int version;              // 1, 2, 3, ... without gaps
  const char* description;  // for error messages
  const char* sql;          // constant DDL, possibly several statements
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

// Runs the SQL of every migration newer than `current`, in order, through `exec`; stops at
// the first failure and returns its status with the migration's version and description
// prepended. Transactions and recording the new version are the caller's.
absl::Status RunPendingMigrations(std::span<const SchemaMigration> migrations, int64_t current,
                                  const std::function<absl::Status(const std::string&)>& exec);

}  // namespace spinel::server
