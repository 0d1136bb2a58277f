// SqlStore: federation relationships. The foreign bundle itself is an ordinary row of
// `bundles` (sql_bundles.cc), written with the relationship when one is given at creation and
// deleted with it. Creating, updating and deleting a relationship are changes (kFederation:
// the refresher fetches soon); recording refresh state is not.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/federation_records.h"
#include "server/datastore/sql_store.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

SqlParams RelationshipParams(const FederationRelationship& r) {
  SqlParams params;
  params.Text(r.trust_domain.name()).Text(r.bundle_endpoint_url).Text(r.profile);
  params.Text(r.endpoint_spiffe_id ? r.endpoint_spiffe_id->ToString() : "");
  params.Text(r.web_ca_pem).Int(r.created_at).Int(r.updated_at);
  params.Int(r.refresh.last_attempt_at).Int(r.refresh.last_success_at);
  params.Int(r.refresh.next_refresh_at).Text(r.refresh.last_error);
  params.Int(r.refresh.consecutive_failures);
  return params;
}

absl::Status RelationshipExists(const FederationRelationship& r) {
  return absl::AlreadyExistsError(
      StrCat("federation relationship with ", Quote(r.trust_domain.name()), " already exists"));
}

}  // namespace

absl::StatusOr<std::optional<FederationRelationship>> SqlStore::FindRelationshipOn(
    SqlSession& s, const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(SqlRows rows,
                          s.Query(StrCat("SELECT ", kFederationColumns,
                                         " FROM federation_relationships WHERE trust_domain = $1"),
                                  SqlParams().Text(td.name())));
  if (rows.empty()) return std::optional<FederationRelationship>();
  SPINEL_ASSIGN_OR_RETURN(FederationRelationship r, ReadFederationRelationship(rows[0]));
  return std::optional<FederationRelationship>(std::move(r));
}

absl::Status SqlStore::WriteRelationship(SqlSession& s, const FederationRelationship& r) {
  return s
      .Query(StrCat("INSERT INTO federation_relationships (", kFederationColumns,
                    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) "
                    "ON CONFLICT (trust_domain) DO UPDATE SET "
                    "bundle_endpoint_url = excluded.bundle_endpoint_url, "
                    "profile = excluded.profile, endpoint_spiffe_id = excluded.endpoint_spiffe_id, "
                    "web_ca_pem = excluded.web_ca_pem, created_at = excluded.created_at, "
                    "updated_at = excluded.updated_at, last_attempt_at = excluded.last_attempt_at, "
                    "last_success_at = excluded.last_success_at, "
                    "next_refresh_at = excluded.next_refresh_at, last_error = excluded.last_error, "
                    "consecutive_failures = excluded.consecutive_failures"),
             RelationshipParams(r))
      .status();
}

absl::StatusOr<FederationRelationship> SqlStore::CreateFederationRelationship(
    const FederationRelationship& relationship, const std::optional<BundleRecord>& initial_bundle) {
  SPINEL_RETURN_IF_ERROR(ValidateFederationRelationship(relationship));
  if (initial_bundle) {
    SPINEL_RETURN_IF_ERROR(ValidateInitialBundle(relationship, *initial_bundle));
  }
  return Write([&](WriteSession& s) -> absl::StatusOr<FederationRelationship> {
    SPINEL_ASSIGN_OR_RETURN(auto existing, FindRelationshipOn(s, relationship.trust_domain));
    if (existing) return RelationshipExists(relationship);
    FederationRelationship out = relationship;
    out.created_at = out.updated_at = NowSeconds();
    out.refresh = FederationRefreshState{};
    SPINEL_RETURN_IF_ERROR(WriteRelationship(s, out));
    SPINEL_RETURN_IF_ERROR(
        RecordChange(s, ChangeKind::kFederation, out.trust_domain.name(), false));
    if (initial_bundle) {
      BundleRecord bundle = *initial_bundle;
      bundle.updated_at = out.created_at;
      SPINEL_RETURN_IF_ERROR(WriteBundle(s, bundle));
    }
    return out;
  });
}

absl::StatusOr<FederationRelationship> SqlStore::UpdateFederationRelationship(
    const FederationRelationship& relationship) {
  SPINEL_RETURN_IF_ERROR(ValidateFederationRelationship(relationship));
  return Write([&](WriteSession& s) -> absl::StatusOr<FederationRelationship> {
    SPINEL_ASSIGN_OR_RETURN(auto stored, FindRelationshipOn(s, relationship.trust_domain));
    if (!stored) return FederationNotFound(relationship.trust_domain);
    FederationRelationship out = relationship;
    out.created_at = stored->created_at;
    out.updated_at = NowSeconds();
    out.refresh = stored->refresh;
    out.refresh.next_refresh_at = 0;
    SPINEL_RETURN_IF_ERROR(WriteRelationship(s, out));
    SPINEL_RETURN_IF_ERROR(
        RecordChange(s, ChangeKind::kFederation, out.trust_domain.name(), false));
    return out;
  });
}

absl::Status SqlStore::DeleteFederationRelationship(const common::TrustDomain& td) {
  return Write([&](WriteSession& s) -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows,
                            s.Query("DELETE FROM federation_relationships WHERE trust_domain = $1",
                                    SqlParams().Text(td.name())));
    if (rows.affected() == 0) return FederationNotFound(td);
    SPINEL_RETURN_IF_ERROR(RecordChange(s, ChangeKind::kFederation, td.name(), true));
    SPINEL_ASSIGN_OR_RETURN(SqlRows bundle, s.Query("DELETE FROM bundles WHERE trust_domain = $1",
                                                    SqlParams().Text(td.name())));
    if (bundle.affected() == 0) return absl::OkStatus();
    return RecordChange(s, ChangeKind::kBundle, td.name(), true);
  });
}

absl::StatusOr<FederationRelationship> SqlStore::GetFederationRelationship(
    const common::TrustDomain& td) {
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<FederationRelationship> {
    SPINEL_ASSIGN_OR_RETURN(auto stored, FindRelationshipOn(s, td));
    if (!stored) return FederationNotFound(td);
    return *std::move(stored);
  });
}

absl::StatusOr<std::vector<FederationRelationship>> SqlStore::ListFederationRelationships() {
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<std::vector<FederationRelationship>> {
    SPINEL_ASSIGN_OR_RETURN(
        SqlRows rows, s.Query(StrCat("SELECT ", kFederationColumns,
                                     " FROM federation_relationships ORDER BY trust_domain")));
    std::vector<FederationRelationship> out;
    for (int i = 0; i < rows.size(); ++i) {
      SPINEL_ASSIGN_OR_RETURN(FederationRelationship r, ReadFederationRelationship(rows[i]));
      out.push_back(std::move(r));
    }
    return out;
  });
}

absl::StatusOr<FederationRelationship> SqlStore::RecordFederationRefresh(
    const common::TrustDomain& td, const FederationRefreshState& state) {
  return Write([&](WriteSession& s) -> absl::StatusOr<FederationRelationship> {
    SPINEL_ASSIGN_OR_RETURN(auto stored, FindRelationshipOn(s, td));
    if (!stored) return FederationNotFound(td);
    stored->refresh = state;
    SPINEL_RETURN_IF_ERROR(WriteRelationship(s, *stored));
    return *std::move(stored);
  });
}

}  // namespace spinel::server
