// Bundles, operator-minted SVIDs and forced rotation of local authorities through the admin
// API (admin_service_impl.h).
#include "common/csr.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/admin/admin_service_impl.h"
#include "server/api/proto_convert.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;
using common::ToGrpcStatus;

absl::StatusOr<std::shared_ptr<const AuthoritySnapshot>> SnapshotOf(const CaManager& cas,
                                                                    const common::TrustDomain& td) {
  std::shared_ptr<const AuthoritySnapshot> snapshot = cas.Snapshot(td);
  if (snapshot == nullptr) {
    return absl::NotFoundError(
        StrCat("trust_domain: this server has no authority for ", Quote(td.name())));
  }
  return snapshot;
}

spinel::v1::LocalAuthority Describe(std::string_view kind, SlotState state, std::string id,
                                    common::TimePoint not_before, common::TimePoint not_after) {
  spinel::v1::LocalAuthority authority;
  authority.set_kind(std::string(kind));
  authority.set_state(std::string(SlotStateName(state)));
  authority.set_id(std::move(id));
  authority.set_not_before(common::ToUnixSeconds(not_before));
  authority.set_expires_at(common::ToUnixSeconds(not_after));
  return authority;
}

}  // namespace

grpc::Status AdminServiceImpl::GetBundle(grpc::ServerContext* /*context*/,
                                         const spinel::v1::TrustDomainRequest* request,
                                         spinel::v1::Bundle* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                            ParseTrustDomainField("trust_domain", request->trust_domain()));
    SPINEL_RETURN_IF_ERROR(SnapshotOf(deps_.cas, td).status());
    // Merged over every replica (server/bundles/bundle_merger.h).
    std::shared_ptr<const common::Bundle> own = deps_.own_bundles.Current(td);
    if (own == nullptr) return absl::NotFoundError(StrCat("no bundle for ", Quote(td.name())));
    SPINEL_ASSIGN_OR_RETURN(*response, BundleToProto(*own));
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::ListBundles(grpc::ServerContext* /*context*/,
                                           const spinel::v1::Empty* /*request*/,
                                           spinel::v1::ListBundlesResponse* response) {
  for (const common::TrustDomain& td : deps_.cas.TrustDomains()) {
    std::shared_ptr<const common::Bundle> own = deps_.own_bundles.Current(td);
    if (own == nullptr) continue;
    absl::StatusOr<spinel::v1::Bundle> bundle = BundleToProto(*own);
    if (!bundle.ok()) return ToGrpcStatus(bundle.status());
    *response->add_bundles() = *std::move(bundle);
  }
  return grpc::Status::OK;
}

absl::StatusOr<common::Duration> AdminServiceImpl::RequestedTtl(const common::SpiffeId& id,
                                                                bool jwt,
                                                                int64_t ttl_seconds) const {
  if (ttl_seconds < 0) return absl::InvalidArgumentError("ttl_seconds: must not be negative");
  if (id.MemberOf(deps_.settings.control)) {
    return absl::InvalidArgumentError(
        StrCat("spiffe_id: ", id.ToString(), " is in the control trust domain; operators mint ",
               "SVIDs of zones only (agents and the server get theirs by attestation)"));
  }
  std::shared_ptr<const zones::ZoneSet> zones = deps_.zones.Get();
  const zones::Zone* zone = zones->ZoneOf(id);
  if (zone == nullptr) {
    return absl::InvalidArgumentError(
        StrCat("spiffe_id: no zone has trust domain ", Quote(id.trust_domain().name())));
  }
  const common::Duration requested = std::chrono::seconds(ttl_seconds);
  SPINEL_ASSIGN_OR_RETURN(common::Duration effective,
                          deps_.issuer.EffectiveTtl(id, jwt, requested));
  if (ttl_seconds != 0 && effective < requested) {
    return absl::InvalidArgumentError(
        StrCat("ttl_seconds: ", ttl_seconds, "s is above zone ", Quote(zone->name), "'s cap of ",
               std::chrono::duration_cast<std::chrono::seconds>(effective).count(), "s"));
  }
  return requested;
}

grpc::Status AdminServiceImpl::MintX509Svid(grpc::ServerContext* context,
                                            const spinel::v1::MintX509SvidRequest* request,
                                            spinel::v1::MintX509SvidResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(common::SpiffeId id, ParseIdField("spiffe_id", request->spiffe_id()));
    SPINEL_ASSIGN_OR_RETURN(common::Duration ttl, RequestedTtl(id, false, request->ttl_seconds()));
    if (request->csr().empty()) {
      return absl::InvalidArgumentError("csr: a PKCS#10 certificate request is required");
    }
    absl::StatusOr<common::Csr> csr = common::Csr::Parse(request->csr());
    if (!csr.ok()) return absl::InvalidArgumentError(StrCat("csr: ", csr.status().message()));
    for (const std::string& uri : csr->uri_sans()) {
      if (uri != id.ToString()) {
        return absl::InvalidArgumentError(
            StrCat("csr: requests URI SAN ", Quote(uri), ", not ", id.ToString()));
      }
    }
    std::vector<std::string> dns(request->dns_names().begin(), request->dns_names().end());
    SPINEL_ASSIGN_OR_RETURN(IssuedX509Svid issued,
                            deps_.issuer.SignX509Svid(id, csr->public_key(), ttl, dns));
    SPINEL_ASSIGN_OR_RETURN(auto snapshot, SnapshotOf(deps_.cas, id.trust_domain()));
    SPINEL_ASSIGN_OR_RETURN(common::Certificate leaf,
                            common::Certificate::FromDer(issued.chain_der.front()));
    SPINEL_RETURN_IF_ERROR(
        audit_.Record(OperatorX509IssuedEvent(audit_, OperatorActor(*context), id, issued)));
    for (std::string& der : issued.chain_der) response->add_certificate_chain(std::move(der));
    response->set_bundle(snapshot->ToBundle().X509AuthoritiesDer());
    response->set_expires_at(common::ToUnixSeconds(issued.expires_at));
    LOG_INFO("X509-SVID minted by an operator",
             {{"spiffe_id", id.ToString()},
              {"serial", leaf.SerialHex()},
              {"expires_at", std::to_string(response->expires_at())}});
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::MintJwtSvid(grpc::ServerContext* context,
                                           const spinel::v1::AdminMintJwtSvidRequest* request,
                                           spinel::v1::AdminMintJwtSvidResponse* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(common::SpiffeId id, ParseIdField("spiffe_id", request->spiffe_id()));
    SPINEL_ASSIGN_OR_RETURN(common::Duration ttl, RequestedTtl(id, true, request->ttl_seconds()));
    if (request->audience().empty()) {
      return absl::InvalidArgumentError("audience: at least one audience is required");
    }
    for (int i = 0; i < request->audience_size(); ++i) {
      if (request->audience(i).empty()) {
        return absl::InvalidArgumentError(StrCat("audience[", i, "]: must not be empty"));
      }
    }
    std::vector<std::string> audience(request->audience().begin(), request->audience().end());
    SPINEL_ASSIGN_OR_RETURN(IssuedJwtSvid issued, deps_.issuer.MintJwtSvid(id, audience, ttl));
    SPINEL_RETURN_IF_ERROR(audit_.Record(
        JwtIssuedEvent(audit_, OperatorActor(*context), id, audience, issued.expires_at, "")));
    response->set_token(issued.token);
    response->set_expires_at(common::ToUnixSeconds(issued.expires_at));
    LOG_INFO(
        "JWT-SVID minted by an operator",
        {{"spiffe_id", id.ToString()}, {"expires_at", std::to_string(response->expires_at())}});
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

absl::Status AdminServiceImpl::DescribeAuthorities(const common::TrustDomain& trust_domain,
                                                   spinel::v1::LocalAuthorities* response) const {
  SPINEL_ASSIGN_OR_RETURN(auto snapshot, SnapshotOf(deps_.cas, trust_domain));
  response->set_trust_domain(trust_domain.name());
  for (const X509Authority& x509 : snapshot->x509) {
    *response->add_authorities() =
        Describe("x509", x509.state, x509.id, x509.NotBefore(), x509.NotAfter());
  }
  for (const JwtAuthority& jwt : snapshot->jwt) {
    *response->add_authorities() =
        Describe("jwt", jwt.state, jwt.kid, jwt.NotBefore(), jwt.NotAfter());
  }
  for (const WitAuthority& wit : snapshot->wit) {
    *response->add_authorities() =
        Describe("wit", wit.state, wit.kid, wit.NotBefore(), wit.NotAfter());
  }
  return absl::OkStatus();
}

grpc::Status AdminServiceImpl::GetLocalAuthorities(grpc::ServerContext* /*context*/,
                                                   const spinel::v1::TrustDomainRequest* request,
                                                   spinel::v1::LocalAuthorities* response) {
  absl::StatusOr<common::TrustDomain> td =
      ParseTrustDomainField("trust_domain", request->trust_domain());
  if (!td.ok()) return ToGrpcStatus(td.status());
  return ToGrpcStatus(DescribeAuthorities(*td, response));
}

grpc::Status AdminServiceImpl::PrepareLocalAuthority(grpc::ServerContext* /*context*/,
                                                     const spinel::v1::TrustDomainRequest* request,
                                                     spinel::v1::LocalAuthorities* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                            ParseTrustDomainField("trust_domain", request->trust_domain()));
    SPINEL_RETURN_IF_ERROR(SnapshotOf(deps_.cas, td).status());
    SPINEL_RETURN_IF_ERROR(deps_.cas.Prepare(td));
    LOG_INFO("local authority prepared by an operator", {{"trust_domain", td.name()}});
    return DescribeAuthorities(td, response);
  }();
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::ActivateLocalAuthority(grpc::ServerContext* /*context*/,
                                                      const spinel::v1::TrustDomainRequest* request,
                                                      spinel::v1::LocalAuthorities* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                            ParseTrustDomainField("trust_domain", request->trust_domain()));
    SPINEL_RETURN_IF_ERROR(SnapshotOf(deps_.cas, td).status());
    SPINEL_RETURN_IF_ERROR(deps_.cas.Activate(td));
    LOG_INFO("local authority activated by an operator", {{"trust_domain", td.name()}});
    return DescribeAuthorities(td, response);
  }();
  return ToGrpcStatus(status);
}

}  // namespace spinel::server
