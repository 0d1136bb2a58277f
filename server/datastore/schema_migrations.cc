#include "server/datastore/schema_migrations.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {
namespace {

using common::StrCat;

absl::StatusOr<int64_t> ReadVersion(SqlSession& session, const SchemaVersionSql& version) {
  if (version.prepare != nullptr) SPINEL_RETURN_IF_ERROR(session.ExecScript(version.prepare));
  SPINEL_ASSIGN_OR_RETURN(SqlRows rows, session.Query(version.read));
  if (rows.empty()) return absl::InternalError(StrCat("no result from ", version.read));
  return rows[0].Int(0);
}

// The database's version, after checking the list's numbering and that the database is not
// newer than the list.
absl::StatusOr<int64_t> CheckedVersion(SqlSession& session, const SchemaVersionSql& version,
                                       std::span<const SchemaMigration> migrations,
                                       std::string_view database) {
  SPINEL_RETURN_IF_ERROR(CheckMigrationNumbering(migrations, session.dialect().engine));
  SPINEL_ASSIGN_OR_RETURN(int64_t current, ReadVersion(session, version));
  const int latest = LatestMigrationVersion(migrations);
  if (current > latest) return SchemaTooNew(database, current, latest);
  return current;
}

}  // namespace

absl::Status CheckMigrationNumbering(std::span<const SchemaMigration> migrations,
                                     std::string_view engine) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return absl::InvalidArgumentError(StrCat(engine,
                                               " migration list is not numbered 1..N: position ",
                                               i + 1, " has version ", migrations[i].version));
    }
  }
  return absl::OkStatus();
}

int LatestMigrationVersion(std::span<const SchemaMigration> migrations) {
  return migrations.empty() ? 0 : migrations.back().version;
}

absl::Status SchemaTooNew(std::string_view database, int64_t version, int latest) {
  return absl::FailedPreconditionError(
      StrCat(database, " has schema version ", version, ", newer than version ", latest,
             " known to this build: it was written by a newer spinel-server; run that version "
             "(or restore a backup made by this one)"));
}

absl::Status MigrateSchema(SqlSession& session, const SchemaVersionSql& version,
                           std::span<const SchemaMigration> migrations, std::string_view database) {
  SPINEL_ASSIGN_OR_RETURN(int64_t current, CheckedVersion(session, version, migrations, database));
  const int latest = LatestMigrationVersion(migrations);
  if (current == latest) return absl::OkStatus();
  for (const SchemaMigration& m : migrations) {
    if (m.version <= current) continue;
    absl::Status status = session.ExecScript(m.sql);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          StrCat("applying schema migration ", m.version, " (", m.description,
                                 "): ", std::string(status.message())));
    }
  }
  return session.ExecScript(version.write(latest));
}

absl::Status CheckSchemaVersion(SqlSession& session, const SchemaVersionSql& version,
                                std::span<const SchemaMigration> migrations,
                                std::string_view database) {
  SPINEL_ASSIGN_OR_RETURN(int64_t current, CheckedVersion(session, version, migrations, database));
  const int latest = LatestMigrationVersion(migrations);
  if (current < latest) {
    return absl::FailedPreconditionError(
        StrCat(database, " has schema version ", current, " but this build needs version ", latest,
               " and the database is read-only, so it cannot be migrated"));
  }
  return absl::OkStatus();
}

}  // namespace spinel::server
