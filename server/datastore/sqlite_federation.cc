// SqliteDatastore: federation relationships and the replicas' own bundles.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/federation_records.h"
#include "server/datastore/sqlite_datastore.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

ColumnReader Columns(const Statement& stmt) {
  return {[&stmt](int i) { return stmt.ColumnText(i); },
          [&stmt](int i) { return stmt.ColumnInt(i); }};
}

// Binds every column of kFederationColumns as ?1..?12.
void BindRelationship(Statement& stmt, const FederationRelationship& r) {
  stmt.BindText(1, r.trust_domain.name()).BindText(2, r.bundle_endpoint_url);
  stmt.BindText(3, r.profile);
  stmt.BindText(4, r.endpoint_spiffe_id ? r.endpoint_spiffe_id->ToString() : "");
  stmt.BindText(5, r.web_ca_pem).BindInt(6, r.created_at).BindInt(7, r.updated_at);
  stmt.BindInt(8, r.refresh.last_attempt_at).BindInt(9, r.refresh.last_success_at);
  stmt.BindInt(10, r.refresh.next_refresh_at).BindText(11, r.refresh.last_error);
  stmt.BindInt(12, r.refresh.consecutive_failures);
}

constexpr char kUpsertRelationship[] =
    "INSERT OR REPLACE INTO federation_relationships (%s) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";

}  // namespace

absl::StatusOr<std::optional<FederationRelationship>> SqliteDatastore::FindRelationshipLocked(
    const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt, db_.Prepare(StrCat("SELECT ", kFederationColumns,
                                         " FROM federation_relationships WHERE trust_domain = ?1")));
  stmt.BindText(1, td.name());
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<FederationRelationship>();
  SPINEL_ASSIGN_OR_RETURN(FederationRelationship r, ReadFederationRelationship(Columns(stmt)));
  return std::optional<FederationRelationship>(std::move(r));
}

absl::Status SqliteDatastore::WriteRelationshipLocked(const FederationRelationship& r) {
  std::string sql = kUpsertRelationship;
  sql.replace(sql.find("%s"), 2, kFederationColumns);
  SPINEL_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(sql));
  BindRelationship(stmt, r);
  return stmt.Run();
}

absl::StatusOr<FederationRelationship> SqliteDatastore::CreateFederationRelationship(
    const FederationRelationship& relationship,
    const std::optional<BundleRecord>& initial_bundle) {
  SPINEL_RETURN_IF_ERROR(ValidateFederationRelationship(relationship));
  if (initial_bundle) {
    SPINEL_RETURN_IF_ERROR(ValidateInitialBundle(relationship, *initial_bundle));
  }
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(auto existing, FindRelationshipLocked(relationship.trust_domain));
  if (existing) {
    return absl::AlreadyExistsError(StrCat("federation relationship with ",
                                           Quote(relationship.trust_domain.name()),
                                           " already exists"));
  }
  FederationRelationship out = relationship;
  out.created_at = out.updated_at = NowSeconds();
  out.refresh = FederationRefreshState{};
  SPINEL_RETURN_IF_ERROR(WriteRelationshipLocked(out));
  if (initial_bundle) {
    SPINEL_ASSIGN_OR_RETURN(
        Statement stmt,
        db_.Prepare("INSERT OR REPLACE INTO bundles (trust_domain, bundle_json, sequence, "
                    "updated_at) VALUES (?1, ?2, ?3, ?4)"));
    stmt.BindText(1, initial_bundle->trust_domain.name()).BindText(2, initial_bundle->bundle_json);
    SPINEL_RETURN_IF_ERROR(stmt.BindInt(3, initial_bundle->sequence).BindInt(4, out.created_at).Run());
    SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kBundle, out.trust_domain.name(), false));
  }
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::StatusOr<FederationRelationship> SqliteDatastore::UpdateFederationRelationship(
    const FederationRelationship& relationship) {
  SPINEL_RETURN_IF_ERROR(ValidateFederationRelationship(relationship));
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(auto stored, FindRelationshipLocked(relationship.trust_domain));
  if (!stored) return FederationNotFound(relationship.trust_domain);
  FederationRelationship out = relationship;
  out.created_at = stored->created_at;
  out.updated_at = NowSeconds();
  out.refresh = stored->refresh;
  out.refresh.next_refresh_at = 0;
  SPINEL_RETURN_IF_ERROR(WriteRelationshipLocked(out));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::Status SqliteDatastore::DeleteFederationRelationship(const common::TrustDomain& td) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt, db_.Prepare("DELETE FROM federation_relationships WHERE trust_domain = ?1"));
  SPINEL_RETURN_IF_ERROR(stmt.BindText(1, td.name()).Run());
  if (db_.Changes() == 0) return FederationNotFound(td);
  SPINEL_ASSIGN_OR_RETURN(Statement bundle,
                          db_.Prepare("DELETE FROM bundles WHERE trust_domain = ?1"));
  SPINEL_RETURN_IF_ERROR(bundle.BindText(1, td.name()).Run());
  if (db_.Changes() > 0) {
    SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kBundle, td.name(), true));
  }
  return txn.Commit();
}

absl::StatusOr<FederationRelationship> SqliteDatastore::GetFederationRelationship(
    const common::TrustDomain& td) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(auto stored, FindRelationshipLocked(td));
  if (!stored) return FederationNotFound(td);
  return *std::move(stored);
}

absl::StatusOr<std::vector<FederationRelationship>>
SqliteDatastore::ListFederationRelationships() {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt, db_.Prepare(StrCat("SELECT ", kFederationColumns,
                                         " FROM federation_relationships ORDER BY trust_domain")));
  std::vector<FederationRelationship> out;
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    SPINEL_ASSIGN_OR_RETURN(FederationRelationship r, ReadFederationRelationship(Columns(stmt)));
    out.push_back(std::move(r));
  }
}

absl::StatusOr<FederationRelationship> SqliteDatastore::RecordFederationRefresh(
    const common::TrustDomain& td, const FederationRefreshState& state) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(auto stored, FindRelationshipLocked(td));
  if (!stored) return FederationNotFound(td);
  stored->refresh = state;
  SPINEL_RETURN_IF_ERROR(WriteRelationshipLocked(*stored));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return *std::move(stored);
}

// --- Replicas' own bundles ------------------------------------------------------------------

absl::StatusOr<ServerBundleRecord> SqliteDatastore::PublishServerBundle(
    const ServerBundleRecord& record) {
  SPINEL_RETURN_IF_ERROR(ValidateServerBundle(record));
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(
      Statement find,
      db_.Prepare(StrCat("SELECT ", kServerBundleColumns,
                         " FROM server_bundles WHERE trust_domain = ?1 AND server_id = ?2")));
  find.BindText(1, record.trust_domain.name()).BindText(2, record.server_id);
  SPINEL_ASSIGN_OR_RETURN(bool found, find.Step());
  if (found) {
    SPINEL_ASSIGN_OR_RETURN(ServerBundleRecord stored, ReadServerBundle(Columns(find)));
    SPINEL_RETURN_IF_ERROR(CheckServerBundleSequence(stored, record));
    // Unchanged: no write, no change record, nobody woken.
    if (stored.sequence == record.sequence && stored.bundle_json == record.bundle_json) {
      return stored;
    }
  }
  ServerBundleRecord out = record;
  out.updated_at = NowSeconds();
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("INSERT OR REPLACE INTO server_bundles (", kServerBundleColumns,
                         ") VALUES (?1, ?2, ?3, ?4, ?5)")));
  stmt.BindText(1, out.server_id).BindText(2, out.trust_domain.name());
  stmt.BindText(3, out.bundle_json).BindInt(4, out.sequence).BindInt(5, out.updated_at);
  SPINEL_RETURN_IF_ERROR(stmt.Run());
  SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kBundle, out.trust_domain.name(), false));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::StatusOr<std::vector<ServerBundleRecord>> SqliteDatastore::ListServerBundles() {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt, db_.Prepare(StrCat("SELECT ", kServerBundleColumns,
                                         " FROM server_bundles ORDER BY trust_domain, server_id")));
  std::vector<ServerBundleRecord> out;
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    SPINEL_ASSIGN_OR_RETURN(ServerBundleRecord r, ReadServerBundle(Columns(stmt)));
    out.push_back(std::move(r));
  }
}

absl::StatusOr<int64_t> SqliteDatastore::DeleteServerBundles(std::string_view server_id) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(
      Statement find, db_.Prepare("SELECT trust_domain FROM server_bundles WHERE server_id = ?1 "
                                  "ORDER BY trust_domain"));
  find.BindText(1, server_id);
  std::vector<std::string> domains;
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(bool row, find.Step());
    if (!row) break;
    domains.push_back(find.ColumnText(0));
  }
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("DELETE FROM server_bundles WHERE server_id = ?1"));
  SPINEL_RETURN_IF_ERROR(stmt.BindText(1, server_id).Run());
  for (const std::string& td : domains) {
    SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kBundle, td, false));
  }
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return static_cast<int64_t>(domains.size());
}

}  // namespace spinel::server
