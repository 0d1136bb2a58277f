// PostgresDatastore: federation relationships and the replicas' own bundles.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/federation_records.h"
#include "server/datastore/postgres_datastore.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

ColumnReader Columns(const PgRow& row) {
  return {[row](int i) { return row.Text(i); }, [row](int i) { return row.Int(i); }};
}

PgParams RelationshipParams(const FederationRelationship& r) {
  PgParams params;
  params.Text(r.trust_domain.name()).Text(r.bundle_endpoint_url).Text(r.profile);
  params.Text(r.endpoint_spiffe_id ? r.endpoint_spiffe_id->ToString() : "");
  params.Text(r.web_ca_pem).Int(r.created_at).Int(r.updated_at);
  params.Int(r.refresh.last_attempt_at).Int(r.refresh.last_success_at);
  params.Int(r.refresh.next_refresh_at).Text(r.refresh.last_error);
  params.Int(r.refresh.consecutive_failures);
  return params;
}

absl::StatusOr<std::optional<FederationRelationship>> FindRelationship(
    PgConnection& conn, const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(
      PgRows rows, conn.Query(StrCat("SELECT ", kFederationColumns,
                                     " FROM federation_relationships WHERE trust_domain = $1"),
                              PgParams().Text(td.name())));
  if (rows.empty()) return std::optional<FederationRelationship>();
  SPINEL_ASSIGN_OR_RETURN(FederationRelationship r, ReadFederationRelationship(Columns(rows[0])));
  return std::optional<FederationRelationship>(std::move(r));
}

absl::Status WriteRelationship(PgConnection& conn, const FederationRelationship& r) {
  return conn
      .Query(StrCat("INSERT INTO federation_relationships (", kFederationColumns,
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                    "ON CONFLICT (trust_domain) DO UPDATE SET bundle_endpoint_url = $2, "
                    "profile = $3, endpoint_spiffe_id = $4, web_ca_pem = $5, created_at = $6, "
                    "updated_at = $7, last_attempt_at = $8, last_success_at = $9, "
                    "next_refresh_at = $10, last_error = $11, consecutive_failures = $12"),
             RelationshipParams(r))
      .status();
}

}  // namespace

absl::StatusOr<FederationRelationship> PostgresDatastore::CreateFederationRelationship(
    const FederationRelationship& relationship,
    const std::optional<BundleRecord>& initial_bundle) {
  SPINEL_RETURN_IF_ERROR(ValidateFederationRelationship(relationship));
  if (initial_bundle) {
    SPINEL_RETURN_IF_ERROR(ValidateInitialBundle(relationship, *initial_bundle));
  }
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(auto existing, FindRelationship(*w, relationship.trust_domain));
  if (existing) {
    return absl::AlreadyExistsError(StrCat("federation relationship with ",
                                           Quote(relationship.trust_domain.name()),
                                           " already exists"));
  }
  FederationRelationship out = relationship;
  out.created_at = out.updated_at = NowSeconds();
  out.refresh = FederationRefreshState{};
  SPINEL_RETURN_IF_ERROR(WriteRelationship(*w, out));
  if (initial_bundle) {
    SPINEL_RETURN_IF_ERROR(
        w->Query("INSERT INTO bundles (trust_domain, bundle_json, sequence, updated_at) VALUES "
                 "($1, $2, $3, $4) ON CONFLICT (trust_domain) DO UPDATE SET bundle_json = $2, "
                 "sequence = $3, updated_at = $4",
                 PgParams()
                     .Text(initial_bundle->trust_domain.name())
                     .Text(initial_bundle->bundle_json)
                     .Int(initial_bundle->sequence)
                     .Int(out.created_at))
            .status());
    SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kBundle, out.trust_domain.name(), false));
  }
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return out;
}

absl::StatusOr<FederationRelationship> PostgresDatastore::UpdateFederationRelationship(
    const FederationRelationship& relationship) {
  SPINEL_RETURN_IF_ERROR(ValidateFederationRelationship(relationship));
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(auto stored, FindRelationship(*w, relationship.trust_domain));
  if (!stored) return FederationNotFound(relationship.trust_domain);
  FederationRelationship out = relationship;
  out.created_at = stored->created_at;
  out.updated_at = NowSeconds();
  out.refresh = stored->refresh;
  out.refresh.next_refresh_at = 0;
  SPINEL_RETURN_IF_ERROR(WriteRelationship(*w, out));
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return out;
}

absl::Status PostgresDatastore::DeleteFederationRelationship(const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(
      PgRows rows, w->Query("DELETE FROM federation_relationships WHERE trust_domain = $1",
                            PgParams().Text(td.name())));
  if (rows.affected() == 0) return FederationNotFound(td);
  SPINEL_ASSIGN_OR_RETURN(PgRows bundle, w->Query("DELETE FROM bundles WHERE trust_domain = $1",
                                                  PgParams().Text(td.name())));
  if (bundle.affected() > 0) {
    SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kBundle, td.name(), true));
  }
  return w.Commit();
}

absl::StatusOr<FederationRelationship> PostgresDatastore::GetFederationRelationship(
    const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  SPINEL_ASSIGN_OR_RETURN(auto stored, FindRelationship(*conn, td));
  if (!stored) return FederationNotFound(td);
  return *std::move(stored);
}

absl::StatusOr<std::vector<FederationRelationship>>
PostgresDatastore::ListFederationRelationships() {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  SPINEL_ASSIGN_OR_RETURN(
      PgRows rows, conn->Query(StrCat("SELECT ", kFederationColumns,
                                      " FROM federation_relationships ORDER BY trust_domain")));
  std::vector<FederationRelationship> out;
  for (int i = 0; i < rows.size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(FederationRelationship r, ReadFederationRelationship(Columns(rows[i])));
    out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<FederationRelationship> PostgresDatastore::RecordFederationRefresh(
    const common::TrustDomain& td, const FederationRefreshState& state) {
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(auto stored, FindRelationship(*w, td));
  if (!stored) return FederationNotFound(td);
  stored->refresh = state;
  SPINEL_RETURN_IF_ERROR(WriteRelationship(*w, *stored));
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return *std::move(stored);
}

// --- Replicas' own bundles ------------------------------------------------------------------

absl::StatusOr<ServerBundleRecord> PostgresDatastore::PublishServerBundle(
    const ServerBundleRecord& record) {
  SPINEL_RETURN_IF_ERROR(ValidateServerBundle(record));
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(
      PgRows found,
      w->Query(StrCat("SELECT ", kServerBundleColumns,
                      " FROM server_bundles WHERE trust_domain = $1 AND server_id = $2"),
               PgParams().Text(record.trust_domain.name()).Text(record.server_id)));
  if (!found.empty()) {
    SPINEL_ASSIGN_OR_RETURN(ServerBundleRecord stored, ReadServerBundle(Columns(found[0])));
    SPINEL_RETURN_IF_ERROR(CheckServerBundleSequence(stored, record));
    // Unchanged: no write, no change record, nobody woken.
    if (stored.sequence == record.sequence && stored.bundle_json == record.bundle_json) {
      return stored;
    }
  }
  ServerBundleRecord out = record;
  out.updated_at = NowSeconds();
  SPINEL_RETURN_IF_ERROR(
      w->Query(StrCat("INSERT INTO server_bundles (", kServerBundleColumns,
                      ") VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trust_domain, server_id) DO "
                      "UPDATE SET bundle_json = $3, sequence = $4, updated_at = $5"),
               PgParams()
                   .Text(out.server_id)
                   .Text(out.trust_domain.name())
                   .Text(out.bundle_json)
                   .Int(out.sequence)
                   .Int(out.updated_at))
          .status());
  SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kBundle, out.trust_domain.name(), false));
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return out;
}

absl::StatusOr<std::vector<ServerBundleRecord>> PostgresDatastore::ListServerBundles() {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  SPINEL_ASSIGN_OR_RETURN(
      PgRows rows, conn->Query(StrCat("SELECT ", kServerBundleColumns,
                                      " FROM server_bundles ORDER BY trust_domain, server_id")));
  std::vector<ServerBundleRecord> out;
  for (int i = 0; i < rows.size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(ServerBundleRecord r, ReadServerBundle(Columns(rows[i])));
    out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<int64_t> PostgresDatastore::DeleteServerBundles(std::string_view server_id) {
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(
      PgRows rows, w->Query("DELETE FROM server_bundles WHERE server_id = $1 "
                            "RETURNING trust_domain",
                            PgParams().Text(server_id)));
  for (int i = 0; i < rows.size(); ++i) {
    SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kBundle, rows[i].Text(0), false));
  }
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return static_cast<int64_t>(rows.size());
}

}  // namespace spinel::server
