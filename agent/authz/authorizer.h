// Authorizer: the Authorization API's decision path (authorization.proto), transport-free.
//
//   1. The request is checked (a subject, a non-empty resource and action, bounded sizes):
//      InvalidArgument otherwise.
//   2. The agent must hold a zone policy (IdentityCache snapshot with zones): Unavailable
//      "no zone policy received from the server yet" otherwise.
//   3. The subject is proved from its SVID (subject_proof.h): Unauthenticated otherwise.
//      Proofs are cached (SubjectProofCache: until the SVID expires or the bundles change),
//      so a subject presenting the same SVID again costs no signature verification.
//      A workload_proof subject (WIT-SVID + WPT, workload_proof.h) is proved every time (its
//      WPT is one-time: the replay cache consumes it) with the proof's own errors
//      (InvalidArgument, AlreadyExists for a replay); a delegation token it binds makes the
//      request one on behalf of that token's user (proof "wit-svid+wpt"), and the response
//      names the user, its issuer and the actor chain.
//   4. zones::Evaluate on the snapshot's ZoneSet decides ALLOW / DENY / APPROVAL_REQUIRED,
//      locally, with the matched zone, rule and reason, and with the delegation when the
//      subject acts on behalf of a user (the second overload: a delegation verified from a
//      delegation token, never from the request's caller-asserted context).
//   5. Step-up, only when the policy says APPROVAL_REQUIRED:
//        - no approval_id: ApprovalBackend::CreateApproval; the answer is APPROVAL_REQUIRED
//          with the approval's id and expiry;
//        - approval_id: ApprovalBackend::UseApproval; OK -> ALLOW (the reason names the
//          approval), PERMISSION_DENIED -> DENY with the server's reason;
//        - the server unreachable (or any other error) -> DENY naming the error: fail closed.
//      An approval_id on a request the policy ALLOWs or DENYs is ignored (not consumed).
//      A delegated request sends its delegation (user, issuer, claims, actor chain) with both
//      calls, so the approval is bound to that user and exact chain.
//   6. Every call — decision or refusal — is recorded with the AuditForwarder as an event of
//      kind "authorize": outcome = the verdict ("ALLOW", "DENY", "APPROVAL_REQUIRED") or
//      "error" for a refused request; subject (the proved ID, "" when unproved); zone (of the
//      matched rule, else of the subject); reason; details = JSON
//      {"resource","action","rule","approval_id","context_digest","proof"} (+ "error_code"
//      for refusals), keys sorted, so the server hashes stable text; and, for a delegated
//      request, the user's issuer and subject and the actor chain.
//
// Thread-safe; the cache, backend, forwarder and clock must outlive it.
#pragma once

#include <memory>
#include <optional>

#include "absl/status/statusor.h"
#include "agent/authz/approval_backend.h"
#include "agent/authz/audit_forwarder.h"
#include "agent/authz/subject_proof_cache.h"
#include "agent/identity_cache.h"
#include "authorization.pb.h"
#include "common/clock.h"
#include "common/replay_cache.h"
#include "common/verified_signature_cache.h"
#include "trust-zones/delegation_context.h"

namespace spinel::agent {

inline constexpr size_t kMaxContextEntries = 64;
inline constexpr size_t kMaxContextBytes = 1024;  // per key and per value
inline constexpr size_t kMaxApprovalIdBytes = 128;
inline constexpr size_t kMaxResourceBytes = 2048;

class Authorizer {
 public:
  // `replay_cache`: the agent-wide WPT replay cache (it must outlive the Authorizer); nullptr:
  // the Authorizer keeps its own.
  Authorizer(IdentityCache& cache, ApprovalBackend& approvals, AuditForwarder& audit,
             const common::Clock& clock, common::WptReplayCache* replay_cache = nullptr);

  // The decision (OK, whatever the verdict) or the refusal (InvalidArgument, Unauthenticated,
  // Unavailable); both are audited. On behalf of nobody.
  absl::StatusOr<spinel::v1::AuthorizeResponse> Authorize(
      const spinel::v1::AuthorizeRequest& request);
  // The same for a subject acting on behalf of `delegation`'s user through its actor chain
  // (current actor first; policy denies when it is not the proved subject). A workload_proof
  // subject carries its own delegation: InvalidArgument here.
  absl::StatusOr<spinel::v1::AuthorizeResponse> Authorize(
      const spinel::v1::AuthorizeRequest& request, const zones::DelegationContext& delegation);

  // The cache of proved subjects (for its statistics).
  const SubjectProofCache& proof_cache() const { return proofs_; }

 private:
  struct Trace;  // what the audit event records about one call
  // The subject of `request`, and for a workload_proof the delegation it proved (into trace).
  absl::StatusOr<common::SpiffeId> Prove(const spinel::v1::AuthorizeRequest& request,
                                         const CacheSnapshot& snapshot, Trace& trace);
  // `delegation`: nullptr for nobody.
  absl::StatusOr<spinel::v1::AuthorizeResponse> AuthorizeFor(
      const spinel::v1::AuthorizeRequest& request, const zones::DelegationContext* delegation);
  // trace.delegation: on whose behalf (set by the caller or by a workload proof).
  absl::StatusOr<spinel::v1::AuthorizeResponse> Decide(const spinel::v1::AuthorizeRequest& request,
                                                       Trace& trace);
  void StepUp(const spinel::v1::AuthorizeRequest& request,
              const zones::DelegationContext* delegation, spinel::v1::AuthorizeResponse& response);

  IdentityCache& cache_;
  ApprovalBackend& approvals_;
  AuditForwarder& audit_;
  const common::Clock& clock_;
  SubjectProofCache proofs_;
  // WIT-SVID and delegation token signatures verified before (workload_proof subjects).
  common::VerifiedSignatureCache signatures_;
  std::unique_ptr<common::WptReplayCache> own_replay_cache_;  // when none was given
  common::WptReplayCache& replay_cache_;
};

// Checks the request's shape (step 1 above).
absl::Status CheckAuthorizeRequest(const spinel::v1::AuthorizeRequest& request);

}  // namespace spinel::agent
