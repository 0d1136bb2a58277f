#include "agent/authz/workload_proof_verifier.h"

#include <nlohmann/json.hpp>

#include "agent/authz/workload_proof.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::agent {

using spinel::v1::VerifyWorkloadProofResponse;

WorkloadProofVerifier::WorkloadProofVerifier(IdentityCache& cache,
                                             common::WptReplayCache& replay_cache,
                                             AuditForwarder& audit, const common::Clock& clock)
    : cache_(cache), replay_cache_(replay_cache), audit_(audit), clock_(clock) {}

absl::StatusOr<VerifyWorkloadProofResponse> WorkloadProofVerifier::Verify(
    const spinel::v1::VerifyWorkloadProofRequest& request) {
  spinel::v1::AuditEvent event;
  absl::StatusOr<VerifyWorkloadProofResponse> result = Prove(request, event);
  nlohmann::json details = {{"target_uri", request.proof().target_uri()},
                            {"delegated", result.ok() && !result->user().empty()}};
  if (result.ok()) {
    event.set_kind(std::string(kWorkloadProofVerifiedEvent));
    event.set_outcome("ok");
  } else {
    event.set_kind(std::string(kWorkloadProofRefusedEvent));
    event.set_outcome("error");
    event.set_reason(common::StrCat(absl::StatusCodeToString(result.status().code()), ": ",
                                    result.status().message()));
    details["error_code"] = absl::StatusCodeToString(result.status().code());
  }
  event.set_details(details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  audit_.Record(std::move(event));
  return result;
}

absl::StatusOr<VerifyWorkloadProofResponse> WorkloadProofVerifier::Prove(
    const spinel::v1::VerifyWorkloadProofRequest& request, spinel::v1::AuditEvent& event) {
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  if (!snapshot->synced) return absl::UnavailableError("no bundles received from the server yet");
  SPINEL_ASSIGN_OR_RETURN(ProvedWorkload proved,
                          ProveWorkloadProof(request.proof(), request.audience(), *snapshot,
                                             replay_cache_, clock_.Now(), &signatures_));
  VerifyWorkloadProofResponse response;
  response.set_spiffe_id(proved.workload.subject.ToString());
  response.set_wit_expires_at(common::ToUnixSeconds(proved.workload.wit_svid.expires_at));
  event.set_subject(response.spiffe_id());
  if (snapshot->zones != nullptr) {
    const zones::Zone* zone = snapshot->zones->ZoneOf(proved.workload.subject);
    if (zone != nullptr) event.set_zone(zone->name);
  }
  if (proved.delegation.has_value()) {
    response.set_user_issuer(proved.delegation->user_issuer);
    response.set_user(proved.delegation->user);
    event.set_user_issuer(proved.delegation->user_issuer);
    event.set_user(proved.delegation->user);
    for (const zones::DelegationActor& actor : proved.delegation->actors) {
      response.add_actor_chain(actor.id.ToString());
      event.add_actor_chain(actor.id.ToString());
    }
  }
  return response;
}

}  // namespace spinel::agent
