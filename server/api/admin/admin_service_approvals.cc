// Step-up approvals through the admin API (admin_service_impl.h): ListApprovals, GetApproval,
// ApproveApproval, DenyApproval. Approve and deny record who decided ("operator:<user>", from
// the CLI's spinel-operator metadata) and an audit event, on behalf of the user (and actor
// chain) the approval is bound to.
#include <nlohmann/json.hpp>

#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/admin/admin_service_impl.h"
#include "server/api/approval_convert.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;
using common::ToGrpcStatus;

constexpr size_t kMaxOperatorName = 64;
constexpr size_t kMaxDecisionReason = 1024;

bool IsOperatorNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == '@';
}

absl::Status CheckApprovalId(const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("id: an approval id is required");
  return absl::OkStatus();
}

absl::Status CheckReason(const std::string& reason, bool required) {
  if (required && reason.empty()) {
    return absl::InvalidArgumentError("reason: required (say why the request is denied)");
  }
  if (reason.size() > kMaxDecisionReason) {
    return absl::InvalidArgumentError(StrCat("reason: at most ", kMaxDecisionReason, " bytes"));
  }
  for (char c : reason) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("reason: must not contain control characters");
    }
  }
  return absl::OkStatus();
}

}  // namespace

std::string OperatorActor(const grpc::ServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto found = metadata.find(kOperatorMetadataKey);
  if (found == metadata.end()) return "operator:unknown";
  const std::string name(found->second.data(), found->second.size());
  if (name.empty() || name.size() > kMaxOperatorName) return "operator:unknown";
  for (char c : name) {
    if (!IsOperatorNameChar(c)) return "operator:unknown";
  }
  return StrCat("operator:", name);
}

grpc::Status AdminServiceImpl::ListApprovals(grpc::ServerContext* /*context*/,
                                             const spinel::v1::ListApprovalsRequest* request,
                                             spinel::v1::ListApprovalsResponse* response) {
  ApprovalFilter filter;
  if (!request->state().empty()) filter.state = request->state();
  if (!request->zone().empty()) filter.zone = request->zone();
  absl::StatusOr<std::vector<ApprovalRecord>> approvals = deps_.approvals.ListApprovals(filter);
  if (absl::IsInvalidArgument(approvals.status())) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        StrCat("state: ", Quote(request->state()),
               " is not one of pending, approved, denied, used, expired")));
  }
  if (!approvals.ok()) return ToGrpcStatus(approvals.status());
  const common::TimePoint now = deps_.clock.Now();
  for (const ApprovalRecord& approval : *approvals) {
    *response->add_approvals() = ApprovalToProto(approval, now);
  }
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::GetApproval(grpc::ServerContext* /*context*/,
                                           const spinel::v1::ApprovalIdRequest* request,
                                           spinel::v1::Approval* response) {
  if (absl::Status ok = CheckApprovalId(request->id()); !ok.ok()) return ToGrpcStatus(ok);
  absl::StatusOr<ApprovalRecord> approval = deps_.approvals.GetApproval(request->id());
  if (!approval.ok()) return ToGrpcStatus(approval.status());
  *response = ApprovalToProto(*approval, deps_.clock.Now());
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Decide(grpc::ServerContext* context,
                                      const spinel::v1::ApprovalDecisionRequest& request,
                                      bool approve, spinel::v1::Approval* response) {
  absl::Status status = [&]() -> absl::Status {
    SPINEL_RETURN_IF_ERROR(CheckApprovalId(request.id()));
    SPINEL_RETURN_IF_ERROR(CheckReason(request.reason(), /*required=*/!approve));
    const std::string actor = OperatorActor(*context);
    SPINEL_ASSIGN_OR_RETURN(
        ApprovalRecord decided,
        approve ? deps_.approvals.ApproveApproval(request.id(), actor, request.reason())
                : deps_.approvals.DenyApproval(request.id(), actor, request.reason()));
    const zones::ApprovalRequest& r = decided.request;
    nlohmann::json details = {{"approval_id", r.id},
                              {"resource", r.binding.resource},
                              {"action", r.binding.action},
                              {"requesting_agent", r.requesting_agent}};
    AuditEvent event =
        audit_.Event(approve ? "approval.approved" : "approval.denied", actor, r.zone,
                     r.binding.subject, approve ? "ok" : "DENY", request.reason(), details);
    // On whose behalf the approval was asked.
    event.user_issuer = r.binding.user_issuer;
    event.user = r.binding.user;
    event.actor_chain = r.binding.actor_chain;
    SPINEL_RETURN_IF_ERROR(audit_.Record(event));
    LOG_INFO(approve ? "approval approved" : "approval denied",
             {{"approval_id", r.id}, {"operator", actor}, {"resource", r.binding.resource}});
    *response = ApprovalToProto(decided, deps_.clock.Now());
    return absl::OkStatus();
  }();
  return ToGrpcStatus(status);
}

grpc::Status AdminServiceImpl::ApproveApproval(grpc::ServerContext* context,
                                               const spinel::v1::ApprovalDecisionRequest* request,
                                               spinel::v1::Approval* response) {
  return Decide(context, *request, /*approve=*/true, response);
}

grpc::Status AdminServiceImpl::DenyApproval(grpc::ServerContext* context,
                                            const spinel::v1::ApprovalDecisionRequest* request,
                                            spinel::v1::Approval* response) {
  return Decide(context, *request, /*approve=*/false, response);
}

}  // namespace spinel::server
