// Federation with foreign trust domains through the admin API (admin_service_impl.h):
// CreateFederationRelationship, UpdateFederationRelationship, DeleteFederationRelationship,
// GetFederationRelationship, ListFederationRelationships, RefreshFederatedBundle.
//
// Requests are validated (server/federation/federation_convert.h) before anything is written;
// a relationship with a trust domain this server signs for (the control plane or any zone) is
// refused. An https_spiffe endpoint whose SPIFFE ID is in the foreign trust domain itself can
// only be verified against a bundle of that trust domain, so creating one needs an initial
// bundle (or one already stored). Create, update and delete record change events, which the
// change feed delivers (agents get or lose the foreign bundle at once) and are audited as
// federation.created / federation.updated / federation.deleted with the operator as actor and the
// trust domain's ID as subject. Get and List show the stored bundle of the trust domain when there
// is one.
#include <map>
#include <optional>

#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/admin/admin_service_impl.h"
#include "server/federation/federation_convert.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;
using common::ToGrpcStatus;

// InvalidArgument when this server signs for `td` (a relationship would shadow its own bundle).
absl::Status CheckForeign(const AdminDeps& deps, const common::TrustDomain& td) {
  bool own = td == deps.settings.control;
  for (const common::TrustDomain& signed_for : deps.cas.TrustDomains()) {
    own = own || td == signed_for;
  }
  for (const zones::Zone& zone : deps.zones.Get()->zones()) {
    own = own || td == zone.trust_domain;
  }
  if (!own) return absl::OkStatus();
  return absl::InvalidArgumentError(
      StrCat("trust_domain: ", Quote(td.name()),
             " is a trust domain this server signs for (the control plane or a zone); "
             "federate only with foreign trust domains"));
}

absl::StatusOr<FederationRelationship> ParseRelationship(
    const AdminDeps& deps, const spinel::v1::FederationRelationship& proto) {
  SPINEL_ASSIGN_OR_RETURN(FederationRelationship relationship,
                          FederationRelationshipFromProto(proto));
  SPINEL_RETURN_IF_ERROR(CheckForeign(deps, relationship.trust_domain));
  return relationship;
}

// The stored bundle of `td`, nullopt when there is none.
absl::StatusOr<std::optional<BundleRecord>> StoredBundle(BundleStore& bundles,
                                                         const common::TrustDomain& td) {
  absl::StatusOr<BundleRecord> bundle = bundles.GetBundle(td);
  if (absl::IsNotFound(bundle.status())) return std::nullopt;
  if (!bundle.ok()) return bundle.status();
  return std::optional<BundleRecord>(*std::move(bundle));
}

// An https_spiffe endpoint in the foreign trust domain itself needs that trust domain's bundle
// (given now as `initial`, or stored) to verify the endpoint's X509-SVID.
absl::Status CheckBootstrap(BundleStore& bundles, const FederationRelationship& relationship,
                            const std::optional<BundleRecord>& initial) {
  if (relationship.profile != kProfileHttpsSpiffe || initial.has_value() ||
      !relationship.endpoint_spiffe_id->MemberOf(relationship.trust_domain)) {
    return absl::OkStatus();
  }
  SPINEL_ASSIGN_OR_RETURN(std::optional<BundleRecord> stored,
                          StoredBundle(bundles, relationship.trust_domain));
  if (stored.has_value()) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("initial_bundle: required: the https_spiffe endpoint ",
                                           relationship.endpoint_spiffe_id->ToString(),
                                           " is verified against the bundle of ",
                                           relationship.trust_domain.name(),
                                           ", and none is stored (give that trust domain's SPIFFE "
                                           "bundle, obtained out of band)"));
}

absl::StatusOr<spinel::v1::FederationRelationship> Describe(
    BundleStore& bundles, const FederationRelationship& relationship) {
  SPINEL_ASSIGN_OR_RETURN(std::optional<BundleRecord> bundle,
                          StoredBundle(bundles, relationship.trust_domain));
  return FederationRelationshipToProto(relationship, bundle);
}

nlohmann::json RelationshipDetails(const FederationRelationship& relationship) {
  return {{"trust_domain", relationship.trust_domain.name()},
          {"bundle_endpoint_url", relationship.bundle_endpoint_url},
          {"profile", relationship.profile},
          {"endpoint_spiffe_id", relationship.endpoint_spiffe_id
                                     ? relationship.endpoint_spiffe_id->ToString()
                                     : std::string()},
          {"web_ca", relationship.web_ca_pem.empty() ? "system roots" : "given"}};
}

}  // namespace

grpc::Status AdminServiceImpl::CreateFederationRelationship(
    grpc::ServerContext* context, const spinel::v1::CreateFederationRelationshipRequest* request,
    spinel::v1::FederationRelationship* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(FederationRelationship relationship,
                            ParseRelationship(deps_, request->relationship()));
    std::optional<BundleRecord> initial;
    if (!request->initial_bundle().empty()) {
      SPINEL_ASSIGN_OR_RETURN(
          initial, InitialBundleRecord(relationship.trust_domain, request->initial_bundle()));
    }
    SPINEL_RETURN_IF_ERROR(CheckBootstrap(deps_.bundles, relationship, initial));
    SPINEL_ASSIGN_OR_RETURN(FederationRelationship created,
                            deps_.federations.CreateFederationRelationship(relationship, initial));
    nlohmann::json details = RelationshipDetails(created);
    details["initial_bundle_sequence"] = initial ? initial->sequence : -1;
    SPINEL_RETURN_IF_ERROR(
        audit_.Record(audit_.Event("federation.created", OperatorActor(*context), "",
                                   created.trust_domain.IdString(), "ok", "", details)));
    LOG_INFO("federation relationship created", {{"trust_domain", created.trust_domain.name()},
                                                 {"url", created.bundle_endpoint_url},
                                                 {"profile", created.profile}});
    SPINEL_ASSIGN_OR_RETURN(*response, Describe(deps_.bundles, created));
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::UpdateFederationRelationship(
    grpc::ServerContext* context, const spinel::v1::FederationRelationship* request,
    spinel::v1::FederationRelationship* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(FederationRelationship relationship,
                            ParseRelationship(deps_, *request));
    SPINEL_RETURN_IF_ERROR(CheckBootstrap(deps_.bundles, relationship, std::nullopt));
    SPINEL_ASSIGN_OR_RETURN(FederationRelationship updated,
                            deps_.federations.UpdateFederationRelationship(relationship));
    SPINEL_RETURN_IF_ERROR(audit_.Record(audit_.Event("federation.updated", OperatorActor(*context),
                                                      "", updated.trust_domain.IdString(), "ok", "",
                                                      RelationshipDetails(updated))));
    LOG_INFO("federation relationship updated", {{"trust_domain", updated.trust_domain.name()},
                                                 {"url", updated.bundle_endpoint_url},
                                                 {"profile", updated.profile}});
    SPINEL_ASSIGN_OR_RETURN(*response, Describe(deps_.bundles, updated));
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::DeleteFederationRelationship(
    grpc::ServerContext* context, const spinel::v1::TrustDomainRequest* request,
    spinel::v1::Empty* /*response*/) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                            ParseTrustDomainField("trust_domain", request->trust_domain()));
    SPINEL_RETURN_IF_ERROR(deps_.federations.DeleteFederationRelationship(td));
    // The foreign bundle went with it (its change event wakes the agents' streams through the
    // change feed): agents stop serving it to workloads.
    SPINEL_RETURN_IF_ERROR(
        audit_.Record(audit_.Event("federation.deleted", OperatorActor(*context), "", td.IdString(),
                                   "ok", "", {{"trust_domain", td.name()}})));
    LOG_INFO("federation relationship deleted", {{"trust_domain", td.name()}});
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::GetFederationRelationship(
    grpc::ServerContext* /*context*/, const spinel::v1::TrustDomainRequest* request,
    spinel::v1::FederationRelationship* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                            ParseTrustDomainField("trust_domain", request->trust_domain()));
    SPINEL_ASSIGN_OR_RETURN(FederationRelationship relationship,
                            deps_.federations.GetFederationRelationship(td));
    SPINEL_ASSIGN_OR_RETURN(*response, Describe(deps_.bundles, relationship));
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::ListFederationRelationships(
    grpc::ServerContext* /*context*/, const spinel::v1::Empty* /*request*/,
    spinel::v1::ListFederationRelationshipsResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(std::vector<FederationRelationship> relationships,
                            deps_.federations.ListFederationRelationships());
    SPINEL_ASSIGN_OR_RETURN(std::vector<BundleRecord> bundles, deps_.bundles.ListBundles());
    std::map<common::TrustDomain, BundleRecord> by_td;
    for (BundleRecord& bundle : bundles) by_td.emplace(bundle.trust_domain, std::move(bundle));
    for (const FederationRelationship& relationship : relationships) {
      auto found = by_td.find(relationship.trust_domain);
      std::optional<BundleRecord> bundle;
      if (found != by_td.end()) bundle = found->second;
      *response->add_relationships() = FederationRelationshipToProto(relationship, bundle);
    }
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::RefreshFederatedBundle(
    grpc::ServerContext* /*context*/, const spinel::v1::TrustDomainRequest* request,
    spinel::v1::FederationRelationship* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                            ParseTrustDomainField("trust_domain", request->trust_domain()));
    if (deps_.federation == nullptr) {
      return absl::UnavailableError("federation refresher not running");
    }
    SPINEL_ASSIGN_OR_RETURN(FederationRelationship after, deps_.federation->RefreshNow(td));
    SPINEL_ASSIGN_OR_RETURN(*response, Describe(deps_.bundles, after));
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

}  // namespace spinel::server
