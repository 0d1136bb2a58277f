// The audit log through the admin API (admin_service_impl.h): ListAuditEvents and VerifyAudit.
#include <chrono>
#include <cstdlib>

#include "common/grpc_status.h"
#include "common/strings.h"
#include "server/api/admin/admin_service_impl.h"
#include "server/api/approval_convert.h"
#include "server/datastore/records.h"
#include "trust-zones/audit_chain.h"

namespace spinel::server {
namespace {

using common::StrCat;
using common::ToGrpcStatus;

// zones::VerifyChain names the first broken event as "audit chain broken at event N: ...".
uint64_t BrokenSequence(std::string_view message) {
  constexpr std::string_view kPrefix = "audit chain broken at event ";
  const size_t at = message.find(kPrefix);
  if (at == std::string_view::npos) return 0;
  return std::strtoull(std::string(message.substr(at + kPrefix.size())).c_str(), nullptr, 10);
}

// The `user` filter is a user's subject as events record it: at most 4096 bytes of UTF-8
// without control characters ("" lists everyone).
absl::Status CheckUserFilter(const std::string& user) {
  if (user.size() > kMaxAuditFieldLength || !IsCleanText(user, /*allow_breaks=*/false)) {
    return absl::InvalidArgumentError(
        "user: must be at most 4096 bytes of UTF-8 without control characters");
  }
  return absl::OkStatus();
}

}  // namespace

grpc::Status AdminServiceImpl::ListAuditEvents(grpc::ServerContext* /*context*/,
                                               const spinel::v1::ListAuditEventsRequest* request,
                                               spinel::v1::ListAuditEventsResponse* response) {
  if (absl::Status ok = CheckUnixMillis("since_ms", request->since_ms()); !ok.ok()) {
    return ToGrpcStatus(ok);
  }
  if (request->limit() < 0) {
    return ToGrpcStatus(absl::InvalidArgumentError("limit: must not be negative"));
  }
  if (absl::Status ok = CheckUserFilter(request->user()); !ok.ok()) return ToGrpcStatus(ok);
  AuditFilter filter{.limit = request->limit(), .newest = true};
  if (!request->zone().empty()) filter.zone = request->zone();
  if (!request->kind().empty()) filter.kind = request->kind();
  if (!request->user().empty()) filter.user = request->user();
  if (request->since_ms() > 0) {
    filter.since = common::TimePoint(std::chrono::milliseconds(request->since_ms()));
  }
  absl::StatusOr<std::vector<AuditEvent>> events = deps_.audit.ListAuditEvents(filter);
  if (!events.ok()) return ToGrpcStatus(events.status());
  for (const AuditEvent& event : *events) *response->add_events() = AuditEventToProto(event);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::VerifyAudit(grpc::ServerContext* /*context*/,
                                           const spinel::v1::Empty* /*request*/,
                                           spinel::v1::VerifyAuditResponse* response) {
  absl::StatusOr<std::vector<AuditEvent>> events = deps_.audit.ListAuditEvents({});
  if (!events.ok()) return ToGrpcStatus(events.status());
  response->set_events(events->size());
  absl::StatusOr<zones::ChainHead> head = zones::VerifyChain(*events);
  if (head.ok()) {
    response->set_ok(true);
    response->set_head_hash(head->hash);
    return grpc::Status::OK;
  }
  if (!absl::IsDataLoss(head.status())) return ToGrpcStatus(head.status());
  response->set_ok(false);
  response->set_first_bad_sequence(BrokenSequence(std::string(head.status().message())));
  response->set_problem(std::string(head.status().message()));
  return grpc::Status::OK;
}

}  // namespace spinel::server
