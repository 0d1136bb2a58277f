// Proving a caller the WIMSE way on the agent (authorization.proto WorkloadProof): a receiver
// forwards the headers of a request it received (Workload-Identity-Token, Workload-Proof-Token
// and, when present, Authorization) with the target URI it built from its own configuration,
// and the agent proves them against the bundles of its IdentityCache snapshot.
//
//  1. Shape: a non-empty target_uri without '?'/'#' (at most kMaxTargetUriBytes), at most
//     kMaxProofHeaders headers, each name and value bounded: InvalidArgument "request
//     rejected: ..." otherwise.
//  2. common::WorkloadProofRequestVerifier (common/workload_proof_request.h) on the headers
//     with that target URI: exactly one WIT-SVID and one WPT; an Authorization "Bearer" token
//     is the access token the WPT must bind with "ath". WIT-SVID keys are the wit-svid keys of
//     every bundle of the snapshot (the agent's zones, their peers, federated trust domains).
//     A Txn-Token is refused: the agent has no Txn-Token trust configured.
//     The replay cache (one per agent) consumes the WPT's jti: every WPT proves one request,
//     so proofs are never cached.
//  3. A bound access token is validated as a delegation token (common/delegation_token.h)
//     with the snapshot's jwt-svid keys by (trust domain, kid) — zones sign delegation tokens
//     with their JWT-SVID keys —, presenter = the proved WIT "sub" and cnf key, audience =
//     `audience` or, when empty, the target URI; then zones::DelegationContext::FromToken.
//
// Errors keep the libraries' codes: InvalidArgument ("request rejected: ...", "WPT rejected:
// ...", "WIT-SVID rejected: ...", "delegation token rejected: ..."), AlreadyExists for a
// replayed WPT, ResourceExhausted when the replay cache is full. Messages never contain
// tokens. Thread-safe (the replay cache is).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/identity_cache.h"
#include "authorization.pb.h"
#include "common/clock.h"
#include "common/replay_cache.h"
#include "common/verified_signature_cache.h"
#include "common/workload_proof_request.h"
#include "trust-zones/delegation_context.h"

namespace spinel::agent {

// The proof name in Authorize audit events.
inline constexpr std::string_view kWorkloadProofName = "wit-svid+wpt";
inline constexpr size_t kMaxProofHeaders = 64;
inline constexpr size_t kMaxProofHeaderBytes = 32 * 1024;  // per name and per value
inline constexpr size_t kMaxTargetUriBytes = 2048;

struct ProvedWorkload {
  common::ProvenWorkload workload;  // the WIT "sub", the WIT-SVID (cnf) and the WPT
  // Set when an access token was bound: the validated delegation token and what it says.
  std::optional<common::DelegationToken> token;
  std::optional<zones::DelegationContext> delegation;
};

// Steps 1 and 2 only: the caller and the bound access token (not validated). For callers that
// give the access token another meaning (the token exchange's subject token). With
// `signatures`, the WIT-SVID's signature is verified once per WIT-SVID (and a delegation
// token's once per token), not once per request (common/verified_signature_cache.h); the WPT's
// is always verified.
absl::StatusOr<common::ProvenRequest> ProveWorkloadRequest(
    const std::vector<common::HttpHeader>& headers, std::string_view target_uri,
    const CacheSnapshot& snapshot, common::WptReplayCache& replay_cache, common::TimePoint now,
    common::VerifiedSignatureCache* signatures = nullptr);

// Steps 1 to 3.
absl::StatusOr<ProvedWorkload> ProveWorkloadProof(
    const spinel::v1::WorkloadProof& proof, std::string_view audience,
    const CacheSnapshot& snapshot, common::WptReplayCache& replay_cache, common::TimePoint now,
    common::VerifiedSignatureCache* signatures = nullptr);

}  // namespace spinel::agent
