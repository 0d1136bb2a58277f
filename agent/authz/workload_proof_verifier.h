// WorkloadProofVerifier: the Authorization API's VerifyWorkloadProof (authorization.proto),
// transport-free. Proves a caller from a forwarded WIMSE proof (workload_proof.h: WIT-SVID +
// WPT, and the delegation token the proof binds, if any) without a policy decision.
//
//  - Unavailable "no bundles received from the server yet" before the first full snapshot;
//  - the proof's errors as they are: InvalidArgument ("request rejected: ...", "WPT rejected:
//    ...", "WIT-SVID rejected: ...", "delegation token rejected: ..."), AlreadyExists for a
//    replayed WPT (its jti is consumed exactly as by Authorize), ResourceExhausted for a full
//    replay cache;
//  - OK: the proved SPIFFE ID, the WIT-SVID's expiry and, for a bound delegation token, the
//    user's issuer and subject and the actor chain (current actor first).
// Every call is audited through the AuditForwarder: kind "workload_proof.verified" (outcome
// "ok") or "workload_proof.refused" (outcome "error", reason "<CODE>: <message>"); subject =
// the proved ID ("" when unproved), zone = the subject's zone, the delegation's user and chain;
// details = {"target_uri", "delegated"} (+ "error_code"). Never a token.
//
// Thread-safe; the cache, replay cache, forwarder and clock must outlive it.
#pragma once

#include "absl/status/statusor.h"
#include "agent/authz/audit_forwarder.h"
#include "agent/identity_cache.h"
#include "authorization.pb.h"
#include "common/clock.h"
#include "common/replay_cache.h"
#include "common/verified_signature_cache.h"

namespace spinel::agent {

inline constexpr std::string_view kWorkloadProofVerifiedEvent = "workload_proof.verified";
inline constexpr std::string_view kWorkloadProofRefusedEvent = "workload_proof.refused";

class WorkloadProofVerifier {
 public:
  WorkloadProofVerifier(IdentityCache& cache, common::WptReplayCache& replay_cache,
                        AuditForwarder& audit, const common::Clock& clock);

  absl::StatusOr<spinel::v1::VerifyWorkloadProofResponse> Verify(
      const spinel::v1::VerifyWorkloadProofRequest& request);

 private:
  // The response, or the refusal; `event` gets the subject, zone and delegation when proved.
  absl::StatusOr<spinel::v1::VerifyWorkloadProofResponse> Prove(
      const spinel::v1::VerifyWorkloadProofRequest& request, spinel::v1::AuditEvent& event);

  IdentityCache& cache_;
  common::WptReplayCache& replay_cache_;
  common::VerifiedSignatureCache signatures_;  // of WIT-SVIDs and delegation tokens
  AuditForwarder& audit_;
  const common::Clock& clock_;
};

}  // namespace spinel::agent
