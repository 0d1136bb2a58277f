// The agent API's step-up approval and audit calls (agent_service.h): CreateApproval,
// UseApproval, ReportAuditEvents.
#include <nlohmann/json.hpp>
#include <optional>

#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/agent/agent_auth.h"
#include "server/api/agent/agent_service.h"
#include "server/api/approval_convert.h"
#include "server/api/delegation_convert.h"
#include "trust-zones/policy.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;
using common::ToGrpcStatus;

constexpr int kMaxReportedEvents = 1000;

// An access request from the wire, validated: the subject is a SPIFFE ID, the delegation (if
// any) is well formed (delegation_convert.h), the binding (and its context digest) can be
// built. The binding carries the delegation's user and chain.
struct ParsedAccess {
  common::SpiffeId subject;
  zones::RequestContext context;
  std::optional<zones::DelegationContext> delegation;
  zones::ApprovalBinding binding;
};

absl::StatusOr<ParsedAccess> ParseAccess(const spinel::v1::AccessRequest& request,
                                         const zones::ZoneSet& zone_set) {
  if (request.subject().empty()) return absl::InvalidArgumentError("request.subject: required");
  absl::StatusOr<common::SpiffeId> subject = common::SpiffeId::Parse(request.subject());
  if (!subject.ok()) {
    return absl::InvalidArgumentError(
        StrCat("request.subject: ", Quote(request.subject()), ": ", subject.status().message()));
  }
  ParsedAccess out{*subject, {}, {}, {}};
  for (const auto& [key, value] : request.context()) out.context.emplace(key, value);
  SPINEL_ASSIGN_OR_RETURN(out.delegation, DelegationFromProto(request, zone_set));
  SPINEL_ASSIGN_OR_RETURN(
      out.binding,
      zones::ApprovalBinding::Make(request.subject(), request.resource(), request.action(),
                                   out.context, out.delegation ? &*out.delegation : nullptr));
  return out;
}

// An audit event about `parsed` records on whose behalf it was asked.
AuditEvent OnBehalf(AuditEvent event, const ParsedAccess& parsed) {
  event.user_issuer = parsed.binding.user_issuer;
  event.user = parsed.binding.user;
  event.actor_chain = parsed.binding.actor_chain;
  return event;
}

nlohmann::json AccessDetails(const spinel::v1::AccessRequest& request,
                             std::string_view approval_id) {
  nlohmann::json details = {{"resource", request.resource()}, {"action", request.action()}};
  if (!approval_id.empty()) details["approval_id"] = std::string(approval_id);
  return details;
}

// The proto's reason for an approval-step refusal, as the audit event records it.
std::string Reason(const absl::Status& status) { return std::string(status.message()); }

// A new pending approval for `parsed`, asked for by `agent`, if the server's own policy answers
// APPROVAL_REQUIRED (else FailedPrecondition with the decision's reason).
absl::StatusOr<ApprovalRecord> NewApprovalFor(const AgentApiDeps& deps,
                                              const zones::ZoneSet& zone_set,
                                              const AttestedAgent& agent,
                                              const ParsedAccess& parsed) {
  const zones::AccessRequest request{parsed.binding.resource, parsed.binding.action,
                                     &parsed.context,
                                     parsed.delegation ? &*parsed.delegation : nullptr};
  const zones::Decision decision = zones::Evaluate(zone_set, parsed.subject, request);
  if (decision.verdict != zones::Verdict::kApprovalRequired) {
    return absl::FailedPreconditionError(StrCat("the server's policy answers ",
                                                zones::VerdictName(decision.verdict),
                                                ", not APPROVAL_REQUIRED: ", decision.reason));
  }
  SPINEL_ASSIGN_OR_RETURN(std::string id, zones::NewApprovalId());
  zones::NewApproval fresh{std::move(id),
                           parsed.binding,
                           agent.spiffe_id.ToString(),
                           decision.zone != nullptr ? decision.zone->name : "",
                           std::string(decision.rule_id()),
                           deps.settings.approval_ttl};
  absl::StatusOr<zones::ApprovalRequest> created =
      zones::ApprovalRequest::Create(std::move(fresh), deps.clock);
  if (!created.ok()) {
    return absl::InvalidArgumentError(StrCat("request: ", created.status().message()));
  }
  return ApprovalRecord{*std::move(created), parsed.context};
}

}  // namespace

grpc::Status AgentServiceImpl::CreateApproval(grpc::ServerContext* context,
                                              const spinel::v1::CreateApprovalRequest* request,
                                              spinel::v1::Approval* response) {
  absl::StatusOr<AttestedAgent> agent = Authenticate(*context->auth_context());
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  const spinel::v1::AccessRequest& access = request->request();
  std::shared_ptr<const zones::ZoneSet> zone_set = deps_.zones.Get();
  absl::StatusOr<ParsedAccess> parsed = ParseAccess(access, *zone_set);
  if (!parsed.ok()) return ToGrpcStatus(parsed.status());
  const std::string actor = agent->spiffe_id.ToString();
  absl::StatusOr<ApprovalRecord> fresh = NewApprovalFor(deps_, *zone_set, *agent, *parsed);
  if (!fresh.ok()) {
    if (absl::IsFailedPrecondition(fresh.status())) {
      AuditEvent refused =
          OnBehalf(audit_.SubjectEvent("approval.refused", actor, parsed->subject, "DENY",
                                       Reason(fresh.status()), AccessDetails(access, "")),
                   *parsed);
      if (absl::Status recorded = audit_.Record(refused); !recorded.ok()) {
        return ToGrpcStatus(recorded);
      }
    }
    return ToGrpcStatus(fresh.status());
  }
  absl::StatusOr<CreatedApproval> stored = deps_.approvals.CreateApproval(*fresh);
  if (!stored.ok()) return ToGrpcStatus(stored.status());
  const ApprovalRecord& approval = stored->approval;
  if (stored->created) {
    AuditEvent requested = OnBehalf(
        audit_.SubjectEvent("approval.requested", actor, parsed->subject, "APPROVAL_REQUIRED",
                            StrCat("rule ", approval.request.rule_id, " requires approval"),
                            AccessDetails(access, approval.request.id)),
        *parsed);
    requested.zone = approval.request.zone;
    if (absl::Status recorded = audit_.Record(requested); !recorded.ok()) {
      return ToGrpcStatus(recorded);
    }
    LOG_INFO("approval requested", {{"approval_id", approval.request.id},
                                    {"subject", approval.request.binding.subject},
                                    {"resource", approval.request.binding.resource},
                                    {"agent", actor}});
  }
  *response = ApprovalToProto(approval, deps_.clock.Now());
  return grpc::Status::OK;
}

grpc::Status AgentServiceImpl::UseApproval(grpc::ServerContext* context,
                                           const spinel::v1::UseApprovalRequest* request,
                                           spinel::v1::Approval* response) {
  absl::StatusOr<AttestedAgent> agent = Authenticate(*context->auth_context());
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  const spinel::v1::AccessRequest& access = request->request();
  absl::StatusOr<ParsedAccess> parsed = ParseAccess(access, *deps_.zones.Get());
  if (!parsed.ok()) return ToGrpcStatus(parsed.status());
  if (request->approval_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "approval_id: required");
  }
  absl::StatusOr<ApprovalRecord> used =
      deps_.approvals.UseApproval(request->approval_id(), parsed->binding);
  if (absl::IsNotFound(used.status())) {
    used = absl::PermissionDeniedError(std::string(used.status().message()));
  }
  if (!used.ok() && !absl::IsPermissionDenied(used.status())) return ToGrpcStatus(used.status());
  const std::string actor = agent->spiffe_id.ToString();
  AuditEvent event =
      OnBehalf(audit_.SubjectEvent(used.ok() ? "approval.used" : "approval.refused", actor,
                                   parsed->subject, used.ok() ? "ALLOW" : "DENY",
                                   used.ok() ? StrCat("approved by ", used->request.decided_by)
                                             : Reason(used.status()),
                                   AccessDetails(access, request->approval_id())),
               *parsed);
  if (used.ok()) event.zone = used->request.zone;
  // An approval consumed but not audited is still consumed: report the audit failure.
  if (absl::Status recorded = audit_.Record(event); !recorded.ok()) {
    return ToGrpcStatus(recorded);
  }
  if (!used.ok()) return ToGrpcStatus(used.status());
  *response = ApprovalToProto(*used, deps_.clock.Now());
  return grpc::Status::OK;
}

grpc::Status AgentServiceImpl::ReportAuditEvents(
    grpc::ServerContext* context, const spinel::v1::ReportAuditEventsRequest* request,
    spinel::v1::ReportAuditEventsResponse* response) {
  absl::StatusOr<AttestedAgent> agent = Authenticate(*context->auth_context());
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  if (request->events_size() > kMaxReportedEvents) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        StrCat("events: at most ", kMaxReportedEvents, " per report"));
  }
  const std::string actor = agent->spiffe_id.ToString();
  std::vector<AuditEvent> events;
  events.reserve(request->events_size() + 1);
  for (int i = 0; i < request->events_size(); ++i) {
    if (absl::Status ok =
            CheckUnixMillis(StrCat("events[", i, "].time_ms"), request->events(i).time_ms());
        !ok.ok()) {
      return ToGrpcStatus(ok);
    }
    AuditEvent event = AuditEventFromProto(request->events(i));
    if (IsServerEventKind(event.kind)) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          StrCat("events[", i, "].kind: ", Quote(event.kind),
                                 " is recorded by the server itself, not reported by agents"));
    }
    event.actor = actor;
    events.push_back(std::move(event));
  }
  if (request->dropped() > 0) {
    events.push_back(
        audit_.Event("audit.dropped", actor, "", "", "error",
                     StrCat("agent dropped ", request->dropped(), " audit events (buffer full)"),
                     {{"dropped", request->dropped()}}));
  }
  absl::Status stored = audit_.RecordAll(events);
  if (!stored.ok()) return ToGrpcStatus(stored);
  response->set_stored(static_cast<uint64_t>(request->events_size()));
  return grpc::Status::OK;
}

}  // namespace spinel::server
