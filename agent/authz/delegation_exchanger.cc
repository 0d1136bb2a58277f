#include "agent/authz/delegation_exchanger.h"

#include <algorithm>

#include "agent/authz/workload_proof.h"
#include "common/delegation_token.h"
#include "common/private_jwk.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/workload_proof_request.h"

namespace spinel::agent {
namespace {

using common::StrCat;
using spinel::v1::TokenExchangeRequest;
using spinel::v1::TokenExchangeResponse;

absl::Status CheckField(std::string_view name, std::string_view value, size_t max_bytes) {
  if (value.empty()) return absl::InvalidArgumentError(StrCat(name, " is empty"));
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(StrCat(name, " is longer than ", max_bytes, " bytes"));
  }
  return absl::OkStatus();
}

// The entry of this agent whose SPIFFE ID is `caller`, when its zone is one the agent serves.
absl::StatusOr<const CachedEntry*> CallerEntry(const CacheSnapshot& snapshot,
                                               const common::SpiffeId& caller) {
  if (snapshot.zones == nullptr || snapshot.zones->ZoneOf(caller) == nullptr) {
    return absl::PermissionDeniedError(StrCat("the WIT-SVID's trust domain ",
                                              caller.trust_domain().name(),
                                              " is not a zone this agent serves"));
  }
  for (const CachedEntry& entry : snapshot.entries) {
    if (entry.spiffe_id == caller) return &entry;
  }
  return absl::PermissionDeniedError(
      StrCat(caller.ToString(), " is not a workload of this agent (no entry)"));
}

TokenExchangeResponse ResponseOf(const spinel::v1::ExchangeTokenResponse& exchanged,
                                 common::TimePoint now) {
  TokenExchangeResponse response;
  response.set_access_token(exchanged.token());
  response.set_issued_token_type(std::string(common::kTokenTypeJwt));
  response.set_token_type(std::string(kExchangeTokenType));
  response.set_expires_in(
      std::max<int64_t>(0, exchanged.expires_at() - common::ToUnixSeconds(now)));
  response.set_user_issuer(exchanged.delegation().user_issuer());
  response.set_user(exchanged.delegation().user());
  *response.mutable_actor_chain() = exchanged.delegation().actor_chain();
  return response;
}

// The cache key of `request` by the proved caller.
absl::StatusOr<std::string> KeyOf(const TokenExchangeRequest& request,
                                  const common::ProvenWorkload& caller) {
  SPINEL_ASSIGN_OR_RETURN(std::string thumbprint,
                          common::JwkThumbprint(caller.wit_svid.confirmation.key));
  const std::string subject = caller.subject.ToString();
  const std::string key_id =
      StrCat(thumbprint, "/", caller.wit_svid.claims.at("cnf").at("jwk").value("alg", ""));
  return ExchangeCacheKey({request.subject_token(), subject, key_id, request.audience(),
                           request.requested_ttl_seconds()});
}

}  // namespace

absl::Status CheckTokenExchangeRequest(const TokenExchangeRequest& request) {
  SPINEL_RETURN_IF_ERROR(CheckField("wit_svid", request.wit_svid(), common::kMaxWitSvidBytes));
  SPINEL_RETURN_IF_ERROR(CheckField("wpt", request.wpt(), common::kMaxWptBytes));
  SPINEL_RETURN_IF_ERROR(
      CheckField("subject_token", request.subject_token(), common::kMaxDelegationTokenBytes));
  SPINEL_RETURN_IF_ERROR(CheckField("audience", request.audience(), kMaxExchangeAudienceBytes));
  const std::string& type = request.subject_token_type();
  if (type != common::kTokenTypeJwt && type != common::kTokenTypeIdToken &&
      type != common::kTokenTypeAccessToken) {
    return absl::InvalidArgumentError(StrCat("subject_token_type must be ", common::kTokenTypeJwt,
                                             ", ", common::kTokenTypeIdToken, " or ",
                                             common::kTokenTypeAccessToken));
  }
  if (request.requested_ttl_seconds() < 0 ||
      request.requested_ttl_seconds() > kMaxRequestedTtlSeconds) {
    return absl::InvalidArgumentError(
        StrCat("requested_ttl_seconds must be 0 to ", kMaxRequestedTtlSeconds));
  }
  return absl::OkStatus();
}

DelegationExchanger::DelegationExchanger(IdentityCache& cache, common::WptReplayCache& replay_cache,
                                         ExchangeBackend& backend, const common::Clock& clock,
                                         size_t cache_entries)
    : cache_(cache),
      replay_cache_(replay_cache),
      backend_(backend),
      clock_(clock),
      exchanges_(cache_entries) {}

absl::StatusOr<TokenExchangeResponse> DelegationExchanger::Exchange(
    const TokenExchangeRequest& request) {
  SPINEL_RETURN_IF_ERROR(CheckTokenExchangeRequest(request));
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  if (!snapshot->synced) return absl::UnavailableError("no entries received from the server yet");
  const std::vector<common::HttpHeader> headers = {
      {std::string(common::kWorkloadIdentityTokenHeader), request.wit_svid()},
      {std::string(common::kWorkloadProofTokenHeader), request.wpt()},
      {std::string(common::kAuthorizationHeader), StrCat("Bearer ", request.subject_token())}};
  SPINEL_ASSIGN_OR_RETURN(common::ProvenRequest proven,
                          ProveWorkloadRequest(headers, kTokenExchangeTarget, *snapshot,
                                               replay_cache_, clock_.Now(), &signatures_));
  const common::ProvenWorkload& caller = proven.workload;
  SPINEL_ASSIGN_OR_RETURN(const CachedEntry* entry, CallerEntry(*snapshot, caller.subject));
  SPINEL_ASSIGN_OR_RETURN(std::string key, KeyOf(request, caller));
  if (std::optional<CachedExchange> hit = exchanges_.Find(key, clock_.Now())) {
    return ResponseOf(hit->response, clock_.Now());
  }
  spinel::v1::ExchangeTokenRequest call;
  call.set_entry_id(entry->id);
  call.set_workload_jwk(caller.wit_svid.claims.at("cnf").at("jwk").dump());
  call.set_subject_token(request.subject_token());
  call.set_audience(request.audience());
  call.set_ttl_seconds(request.requested_ttl_seconds());
  const common::TimePoint sent_at = clock_.Now();
  SPINEL_ASSIGN_OR_RETURN(spinel::v1::ExchangeTokenResponse exchanged,
                          backend_.ExchangeToken(call));
  if (exchanged.token().empty()) return absl::InternalError("the server sent no token");
  exchanges_.Insert(key, {exchanged, sent_at, common::FromUnixSeconds(exchanged.expires_at())},
                    clock_.Now());
  return ResponseOf(exchanged, clock_.Now());
}

}  // namespace spinel::agent
