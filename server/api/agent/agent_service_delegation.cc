// ExchangeToken (contract in common/proto/agent.proto): token exchange for a workload of one of
// the caller's entries. The agent proved the workload (WIT-SVID + WPT) and sends its WIT key;
// the server trusts the authenticated agent for that, as it does for CSRs. The subject token is
// validated here, against the keys of the entry's zone's trusted issuers (TrustedIssuerKeyring)
// or the delegation keys of this server's zones (OwnDelegationAuthorities); the exchange is
// planned within the zone's `delegation` limits (common/token_exchange.h), signed with the
// zone's active JWT key (Issuer::SignDelegationToken) and audited before the token is sent.
#include "common/grpc_status.h"
#include "common/json_util.h"
#include "common/private_jwk.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/agent/agent_service.h"

namespace spinel::server {
namespace {

using common::StrCat;

constexpr size_t kMaxAudienceBytes = 2048;
constexpr int64_t kMaxRequestedTtlSeconds = 24 * 3600;

absl::Status CheckExchangeRequest(const spinel::v1::ExchangeTokenRequest& request) {
  if (request.subject_token().empty()) {
    return absl::InvalidArgumentError("subject_token: required");
  }
  if (request.audience().empty() || request.audience().size() > kMaxAudienceBytes) {
    return absl::InvalidArgumentError(
        StrCat("audience: required, at most ", kMaxAudienceBytes, " bytes"));
  }
  if (request.ttl_seconds() < 0 || request.ttl_seconds() > kMaxRequestedTtlSeconds) {
    return absl::InvalidArgumentError(
        StrCat("ttl_seconds: 0 (the zone default) to ", kMaxRequestedTtlSeconds));
  }
  return absl::OkStatus();
}

void FillDelegation(const common::DelegationClaims& claims, spinel::v1::Delegation* out) {
  out->set_user_issuer(claims.user.issuer);
  out->set_user(claims.user.subject);
  for (const common::SpiffeId& actor : claims.actors) out->add_actor_chain(actor.ToString());
  for (const auto& [name, value] : claims.user.claims.items()) {
    spinel::v1::UserClaimValues& values = (*out->mutable_user_claims())[name];
    if (value.is_string()) {
      values.add_values(value.get<std::string>());
      continue;
    }
    for (const nlohmann::json& item : value) values.add_values(item.get<std::string>());
  }
}

}  // namespace

absl::StatusOr<AgentServiceImpl::ExchangeResult> AgentServiceImpl::Exchange(
    const AttestedAgent& agent, const spinel::v1::ExchangeTokenRequest& request,
    std::optional<common::SpiffeId>& workload) {
  SPINEL_RETURN_IF_ERROR(CheckExchangeRequest(request));
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::SpiffeId> parents, deps_.view.ParentIdsOf(agent));
  SPINEL_ASSIGN_OR_RETURN(RegistrationEntry entry,
                          AuthorizedEntry(agent, parents, request.entry_id()));
  workload = entry.spiffe_id;  // names the subject of a refusal from here on
  std::shared_ptr<const zones::ZoneSet> zones = deps_.zones.Get();
  const zones::Zone* zone = zones->ZoneOf(entry.spiffe_id);
  if (zone == nullptr || !zone->delegation.enabled) {
    return absl::PermissionDeniedError(
        StrCat("token exchange refused: the zone of ", entry.spiffe_id.ToString(),
               " allows no delegation (no `delegation` in its zone file)"));
  }
  SPINEL_ASSIGN_OR_RETURN(common::ConfirmationKey key,
                          common::ParseConfirmationJwkText(request.workload_jwk(), "workload_jwk"));
  std::vector<common::TrustedIssuerKeys> trusted;
  for (IssuerKeys& issuer : deps_.issuer_keys.For(*zone)) trusted.push_back(std::move(issuer.keys));
  const OwnDelegationAuthorities delegation_keys(deps_.own_bundles);
  common::SubjectTokenTrust trust{trusted, &delegation_keys, {}, common::kDefaultDelegationLeeway};
  common::ExchangeRequest exchange{entry.spiffe_id, std::move(key), request.audience(),
                                   std::nullopt};
  if (request.ttl_seconds() > 0) exchange.ttl = std::chrono::seconds(request.ttl_seconds());
  SPINEL_ASSIGN_OR_RETURN(
      common::DelegationClaims planned,
      common::ExchangeSubjectToken(request.subject_token(), trust, exchange,
                                   zone->delegation.Limits(), deps_.clock.Now()));
  SPINEL_ASSIGN_OR_RETURN(IssuedDelegationToken issued, deps_.issuer.SignDelegationToken(planned));
  return ExchangeResult{std::move(planned), std::move(issued)};
}

grpc::Status AgentServiceImpl::ExchangeToken(grpc::ServerContext* context,
                                             const spinel::v1::ExchangeTokenRequest* request,
                                             spinel::v1::ExchangeTokenResponse* response) {
  absl::StatusOr<AttestedAgent> agent = Authenticate(*context->auth_context());
  if (!agent.ok()) return common::ToGrpcStatus(agent.status());
  absl::Status admitted = limiter_.Admit(agent->spiffe_id.ToString(), 1);
  if (!admitted.ok()) return common::ToGrpcStatus(admitted);
  SigningLimiter::Slot slot(limiter_);
  std::optional<common::SpiffeId> workload;
  absl::StatusOr<ExchangeResult> result = Exchange(*agent, *request, workload);
  const std::string agent_id = agent->spiffe_id.ToString();
  AuditEvent event = result.ok() ? DelegationExchangedEvent(audit_, agent_id, request->entry_id(),
                                                            result->claims, result->issued)
                                 : DelegationRefusedEvent(audit_, agent_id, request->entry_id(),
                                                          workload, result.status());
  // Audited before anything is handed out; an unaudited delegation token is not sent.
  if (absl::Status recorded = audit_.Record(event); !recorded.ok()) {
    return common::ToGrpcStatus(recorded);
  }
  if (!result.ok()) return common::ToGrpcStatus(result.status());
  response->set_token(result->issued.token);
  response->set_expires_at(common::ToUnixSeconds(result->issued.expires_at));
  FillDelegation(result->claims, response->mutable_delegation());
  return grpc::Status::OK;
}

}  // namespace spinel::server
