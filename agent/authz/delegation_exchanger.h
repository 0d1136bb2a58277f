// DelegationExchanger: spinel.v1.TokenExchange.Exchange (authorization.proto), transport-free.
// A workload proves itself with its WIT-SVID and a WPT and presents a subject token (a user's
// token, or a delegation token its caller sent it); the zone's server signs a delegation token
// bound to the workload's WIT-SVID key. In this order:
//
//  1. The request: wit_svid, wpt, subject_token and audience non-empty and bounded,
//     subject_token_type one of the RFC 8693 URIs kTokenTypeJwt / kTokenTypeIdToken /
//     kTokenTypeAccessToken (common/delegation_token.h), 0 <= requested_ttl_seconds <=
//     kMaxRequestedTtlSeconds: InvalidArgument otherwise. Unavailable before the agent's first
//     full snapshot.
//  2. The proof (workload_proof.h ProveWorkloadRequest) of the headers Workload-Identity-Token
//     = wit_svid, Workload-Proof-Token = wpt, Authorization = "Bearer <subject_token>", with
//     target URI kTokenExchangeTarget: the WPT's "aud" is that URN and its "ath" the hash of
//     the subject token. Errors as the proof's (InvalidArgument, AlreadyExists for a replay).
//  3. The caller: the WIT-SVID's trust domain must be a zone this agent serves and its SPIFFE
//     ID an entry this agent holds (the first such entry by id is the one exchanged for):
//     PermissionDenied otherwise.
//  4. The cache (exchange_cache.h): a still-fresh token for the same subject token, caller,
//     key, audience and requested lifetime is answered without a server call.
//  5. ExchangeBackend::ExchangeToken (entry_id, workload_jwk = the WIT-SVID's cnf.jwk JSON,
//     subject_token, audience, ttl_seconds); the server's errors pass through.
// The answer: access_token = the delegation token, issued_token_type = kTokenTypeJwt,
// token_type "N_A", expires_in (seconds from now), the user and the actor chain.
// Tokens are never logged.
//
// Thread-safe; the cache, replay cache, backend and clock must outlive it.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "agent/authz/exchange_backend.h"
#include "agent/authz/exchange_cache.h"
#include "agent/identity_cache.h"
#include "authorization.pb.h"
#include "common/clock.h"
#include "common/replay_cache.h"
#include "common/verified_signature_cache.h"

namespace spinel::agent {

// The target URI (the WPT's "aud") of a token exchange on the agent.
inline constexpr std::string_view kTokenExchangeTarget = "urn:spinel:agent:token-exchange";
// RFC 8693 §2.2.1: the issued token is not a bearer token (it is bound by cnf).
inline constexpr std::string_view kExchangeTokenType = "N_A";
inline constexpr int64_t kMaxRequestedTtlSeconds = 3600;
inline constexpr size_t kMaxExchangeAudienceBytes = 2048;

class DelegationExchanger {
 public:
  DelegationExchanger(IdentityCache& cache, common::WptReplayCache& replay_cache,
                      ExchangeBackend& backend, const common::Clock& clock,
                      size_t cache_entries = kDefaultExchangeCacheEntries);

  absl::StatusOr<spinel::v1::TokenExchangeResponse> Exchange(
      const spinel::v1::TokenExchangeRequest& request);

  const ExchangeCache& exchange_cache() const { return exchanges_; }

 private:
  IdentityCache& cache_;
  common::WptReplayCache& replay_cache_;
  common::VerifiedSignatureCache signatures_;  // of the callers' WIT-SVIDs
  ExchangeBackend& backend_;
  const common::Clock& clock_;
  ExchangeCache exchanges_;
};

// Step 1's checks.
absl::Status CheckTokenExchangeRequest(const spinel::v1::TokenExchangeRequest& request);

}  // namespace spinel::agent
