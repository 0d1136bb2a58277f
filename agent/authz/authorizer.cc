#include "agent/authz/authorizer.h"

#include <nlohmann/json.hpp>

#include "agent/authz/subject_proof.h"
#include "agent/authz/workload_proof.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "trust-zones/approval.h"
#include "trust-zones/policy.h"

namespace spinel::agent {

using common::StrCat;
using spinel::v1::AuthorizeResponse;

struct Authorizer::Trace {
  std::string subject;
  std::string zone;
  std::string proof;
  std::string context_digest;
  const zones::DelegationContext* delegation = nullptr;  // on whose behalf; nullptr: nobody
  std::optional<zones::DelegationContext> proved;        // a workload proof's delegation
};

namespace {

AuthorizeResponse::Verdict ToProto(zones::Verdict verdict) {
  switch (verdict) {
    case zones::Verdict::kAllow:
      return AuthorizeResponse::ALLOW;
    case zones::Verdict::kApprovalRequired:
      return AuthorizeResponse::APPROVAL_REQUIRED;
    case zones::Verdict::kDeny:
      break;
  }
  return AuthorizeResponse::DENY;
}

spinel::v1::AccessRequest AccessRequestOf(const spinel::v1::AuthorizeRequest& request,
                                          const std::string& subject,
                                          const zones::DelegationContext* delegation) {
  spinel::v1::AccessRequest access;
  access.set_subject(subject);
  access.set_resource(request.resource());
  access.set_action(request.action());
  *access.mutable_context() = request.context();
  if (delegation != nullptr) {
    spinel::v1::Delegation& wire = *access.mutable_delegation();
    wire.set_user_issuer(delegation->user_issuer);
    wire.set_user(delegation->user);
    for (const zones::DelegationActor& actor : delegation->actors) {
      wire.add_actor_chain(actor.id.ToString());
    }
    for (const auto& [name, values] : delegation->claims) {
      auto& claim = (*wire.mutable_user_claims())[name];
      for (const std::string& value : values) claim.add_values(value);
    }
  }
  return access;
}

// The response names on whose behalf the subject acts.
void FillDelegation(const zones::DelegationContext* delegation, AuthorizeResponse& response) {
  if (delegation == nullptr) return;
  response.set_user_issuer(delegation->user_issuer);
  response.set_user(delegation->user);
  for (const zones::DelegationActor& actor : delegation->actors) {
    response.add_actor_chain(actor.id.ToString());
  }
}

// The audit event records on whose behalf the call was made.
void RecordDelegation(const zones::DelegationContext* delegation, spinel::v1::AuditEvent& event) {
  if (delegation == nullptr) return;
  event.set_user_issuer(delegation->user_issuer);
  event.set_user(delegation->user);
  for (const zones::DelegationActor& actor : delegation->actors) {
    event.add_actor_chain(actor.id.ToString());
  }
}

std::string Details(const spinel::v1::AuthorizeRequest& request, const std::string& rule,
                    const std::string& approval_id, const std::string& context_digest,
                    const std::string& proof, const absl::Status& refusal) {
  nlohmann::json details = {
      {"resource", request.resource()}, {"action", request.action()},       {"rule", rule},
      {"approval_id", approval_id},     {"context_digest", context_digest}, {"proof", proof}};
  if (!refusal.ok()) details["error_code"] = absl::StatusCodeToString(refusal.code());
  return details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

absl::Status CheckAuthorizeRequest(const spinel::v1::AuthorizeRequest& request) {
  if (request.subject_case() == spinel::v1::AuthorizeRequest::SUBJECT_NOT_SET) {
    return absl::InvalidArgumentError("no subject: set jwt_svid, x509_svid or workload_proof");
  }
  if (request.resource().empty()) return absl::InvalidArgumentError("resource is empty");
  if (request.resource().size() > kMaxResourceBytes) {
    return absl::InvalidArgumentError(
        StrCat("resource is longer than ", kMaxResourceBytes, " bytes"));
  }
  if (request.action().empty()) return absl::InvalidArgumentError("action is empty");
  if (request.action().size() > kMaxContextBytes) {
    return absl::InvalidArgumentError(StrCat("action is longer than ", kMaxContextBytes, " bytes"));
  }
  if (request.approval_id().size() > kMaxApprovalIdBytes) {
    return absl::InvalidArgumentError(
        StrCat("approval_id is longer than ", kMaxApprovalIdBytes, " bytes"));
  }
  if (static_cast<size_t>(request.context_size()) > kMaxContextEntries) {
    return absl::InvalidArgumentError(
        StrCat("context has more than ", kMaxContextEntries, " entries"));
  }
  for (const auto& [key, value] : request.context()) {
    if (key.empty() || key.size() > kMaxContextBytes || value.size() > kMaxContextBytes) {
      return absl::InvalidArgumentError(
          StrCat("context key ", common::Quote(key.substr(0, 64)), ": keys must be 1 to ",
                 kMaxContextBytes, " bytes and values at most ", kMaxContextBytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

Authorizer::Authorizer(IdentityCache& cache, ApprovalBackend& approvals, AuditForwarder& audit,
                       const common::Clock& clock, common::WptReplayCache* replay_cache)
    : cache_(cache),
      approvals_(approvals),
      audit_(audit),
      clock_(clock),
      own_replay_cache_(replay_cache == nullptr ? std::make_unique<common::WptReplayCache>()
                                                : nullptr),
      replay_cache_(replay_cache != nullptr ? *replay_cache : *own_replay_cache_) {}

absl::StatusOr<AuthorizeResponse> Authorizer::Authorize(
    const spinel::v1::AuthorizeRequest& request) {
  return AuthorizeFor(request, nullptr);
}

absl::StatusOr<AuthorizeResponse> Authorizer::Authorize(
    const spinel::v1::AuthorizeRequest& request, const zones::DelegationContext& delegation) {
  return AuthorizeFor(request, &delegation);
}

absl::StatusOr<AuthorizeResponse> Authorizer::AuthorizeFor(
    const spinel::v1::AuthorizeRequest& request, const zones::DelegationContext* delegation) {
  Trace trace;
  trace.delegation = delegation;
  absl::StatusOr<AuthorizeResponse> result = Decide(request, trace);
  spinel::v1::AuditEvent event;
  event.set_kind("authorize");
  event.set_subject(trace.subject);
  event.set_zone(trace.zone);
  RecordDelegation(trace.delegation, event);
  if (result.ok()) {
    event.set_outcome(AuthorizeResponse::Verdict_Name(result->verdict()));
    event.set_reason(result->reason());
    event.set_details(Details(request, result->rule(), result->approval_id(), trace.context_digest,
                              trace.proof, absl::OkStatus()));
  } else {
    event.set_outcome("error");
    event.set_reason(
        StrCat(absl::StatusCodeToString(result.status().code()), ": ", result.status().message()));
    event.set_details(Details(request, "", "", trace.context_digest, trace.proof, result.status()));
  }
  audit_.Record(std::move(event));
  return result;
}

absl::StatusOr<common::SpiffeId> Authorizer::Prove(const spinel::v1::AuthorizeRequest& request,
                                                   const CacheSnapshot& snapshot, Trace& trace) {
  if (request.subject_case() != spinel::v1::AuthorizeRequest::kWorkloadProof) {
    SPINEL_ASSIGN_OR_RETURN(ProvedSubject subject,
                            ProveSubject(request, snapshot, clock_.Now(), &proofs_));
    trace.proof = subject.proof;
    return subject.id;
  }
  trace.proof = std::string(kWorkloadProofName);
  if (trace.delegation != nullptr) {
    return absl::InvalidArgumentError("a workload_proof subject carries its own delegation");
  }
  SPINEL_ASSIGN_OR_RETURN(ProvedWorkload proved,
                          ProveWorkloadProof(request.workload_proof(), request.audience(), snapshot,
                                             replay_cache_, clock_.Now(), &signatures_));
  if (proved.delegation.has_value()) {
    trace.proved = std::move(proved.delegation);
    trace.delegation = &*trace.proved;
  }
  return proved.workload.subject;
}

absl::StatusOr<AuthorizeResponse> Authorizer::Decide(const spinel::v1::AuthorizeRequest& request,
                                                     Trace& trace) {
  SPINEL_RETURN_IF_ERROR(CheckAuthorizeRequest(request));
  const zones::RequestContext context(request.context().begin(), request.context().end());
  trace.context_digest = zones::ContextDigest(context).value_or("");
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  if (snapshot->zones == nullptr) {
    return absl::UnavailableError("no zone policy received from the server yet");
  }
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId subject, Prove(request, *snapshot, trace));
  trace.subject = subject.ToString();
  const zones::DelegationContext* delegation = trace.delegation;
  const zones::Decision decision = zones::Evaluate(
      *snapshot->zones, subject, {request.resource(), request.action(), &context, delegation});
  const zones::Zone* subject_zone = snapshot->zones->ZoneOf(subject);
  trace.zone = decision.zone != nullptr  ? decision.zone->name
               : subject_zone != nullptr ? subject_zone->name
                                         : std::string();
  AuthorizeResponse response;
  response.set_verdict(ToProto(decision.verdict));
  response.set_subject(trace.subject);
  response.set_zone(decision.zone != nullptr ? decision.zone->name : std::string());
  response.set_rule(std::string(decision.rule_id()));
  response.set_reason(decision.reason);
  FillDelegation(delegation, response);
  if (decision.verdict == zones::Verdict::kApprovalRequired) StepUp(request, delegation, response);
  return response;
}

void Authorizer::StepUp(const spinel::v1::AuthorizeRequest& request,
                        const zones::DelegationContext* delegation, AuthorizeResponse& response) {
  const spinel::v1::AccessRequest access = AccessRequestOf(request, response.subject(), delegation);
  const std::string& id = request.approval_id();
  if (id.empty()) {
    absl::StatusOr<spinel::v1::Approval> created = approvals_.CreateApproval(access);
    if (!created.ok()) {
      response.set_verdict(AuthorizeResponse::DENY);
      response.set_reason(StrCat(response.reason(), "; the approval request could not be created: ",
                                 created.status().message()));
      return;
    }
    response.set_approval_id(created->id());
    response.set_approval_expires_at(created->expires_at());
    response.set_reason(StrCat(response.reason(), "; approval ", created->id(),
                               " requested, waiting for an operator"));
    return;
  }
  response.set_approval_id(id);
  absl::StatusOr<spinel::v1::Approval> used = approvals_.UseApproval(id, access);
  if (used.ok()) {
    response.set_verdict(AuthorizeResponse::ALLOW);
    response.set_approval_expires_at(used->expires_at());
    response.set_reason(StrCat("approval ", id, " granted",
                               used->decided_by().empty() ? "" : " by ", used->decided_by(), " (",
                               response.reason(), ")"));
  } else if (used.status().code() == absl::StatusCode::kPermissionDenied) {
    response.set_verdict(AuthorizeResponse::DENY);
    response.set_reason(StrCat("approval ", id, " refused: ", used.status().message()));
  } else {
    response.set_verdict(AuthorizeResponse::DENY);
    response.set_reason(
        StrCat("approval ", id, " could not be checked, denying: ", used.status().message()));
  }
}

}  // namespace spinel::agent
