#include "server/datastore/schema_migrations.h"

#include "common/strings.h"

namespace spinel::server {

using common::StrCat;

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

absl::Status RunPendingMigrations(std::span<const SchemaMigration> migrations, int64_t current,
                                  const std::function<absl::Status(const std::string&)>& exec) {
  for (const SchemaMigration& m : migrations) {
    if (m.version <= current) continue;
    absl::Status status = exec(m.sql);
    if (!status.ok()) {
      return absl::Status(status.code(),
                          StrCat("applying schema migration ", m.version, " (", m.description,
                                 "): ", std::string(status.message())));
    }
  }
  return absl::OkStatus();
}

}  // namespace spinel::server
