// Stand-ins for the server's end of the trust-zone RPCs, for Authorizer and AuditForwarder
// unit tests (the approval path against the real server runs in authorize integration tests):
//   - ApprovalLedger: an ApprovalBackend keeping approvals in memory with the real state
//     machine (trust-zones/approval.h) and the injected clock; Approve/Deny play the operator;
//     set_down(true) makes every call fail with UNAVAILABLE like an unreachable server.
//   - AuditInbox: an AuditReporter that keeps every batch it accepted; set_down(true) refuses
//     (UNAVAILABLE) and nothing is stored.
// Thread-safe.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "agent/authz/approval_backend.h"
#include "agent/authz/audit_reporter.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "trust-zones/approval.h"

namespace spinel::testing {

class ApprovalLedger final : public agent::ApprovalBackend {
 public:
  explicit ApprovalLedger(const common::Clock& clock) : clock_(clock) {}

  absl::StatusOr<spinel::v1::Approval> CreateApproval(
      const spinel::v1::AccessRequest& request) override {
    ++creates_;
    if (down_) return absl::UnavailableError("connection refused (test)");
    auto binding = Binding(request);
    if (!binding.ok()) return binding.status();
    auto id = zones::NewApprovalId();
    REQUIRE(id.ok());
    zones::NewApproval fresh{*id, *binding, "spiffe://control.test/agent",
                             "",  "",       std::chrono::minutes(10)};
    auto created = zones::ApprovalRequest::Create(std::move(fresh), clock_);
    if (!created.ok()) return created.status();
    spinel::common::MutexLock lock(mutex_);
    approvals_.emplace(*id, *created);
    return ToProto(*created);
  }

  absl::StatusOr<spinel::v1::Approval> UseApproval(
      const std::string& approval_id, const spinel::v1::AccessRequest& request) override {
    ++uses_;
    if (down_) return absl::UnavailableError("connection refused (test)");
    auto binding = Binding(request);
    if (!binding.ok()) return binding.status();
    spinel::common::MutexLock lock(mutex_);
    auto it = approvals_.find(approval_id);
    if (it == approvals_.end()) {
      return absl::PermissionDeniedError("approval " + approval_id + " does not exist");
    }
    absl::Status used = it->second.Use(*binding, clock_);
    if (!used.ok()) return used;
    return ToProto(it->second);
  }

  void Approve(const std::string& id) {
    spinel::common::MutexLock lock(mutex_);
    REQUIRE(approvals_.at(id).Approve("operator", "ok", clock_).ok());
  }
  void Deny(const std::string& id) {
    spinel::common::MutexLock lock(mutex_);
    REQUIRE(approvals_.at(id).Deny("operator", "too risky", clock_).ok());
  }
  void set_down(bool down) { down_ = down; }
  int creates() const { return creates_; }
  int uses() const { return uses_; }

 private:
  static absl::StatusOr<zones::ApprovalBinding> Binding(const spinel::v1::AccessRequest& r) {
    zones::RequestContext context(r.context().begin(), r.context().end());
    return zones::ApprovalBinding::Make(r.subject(), r.resource(), r.action(), context);
  }
  static spinel::v1::Approval ToProto(const zones::ApprovalRequest& request) {
    spinel::v1::Approval out;
    out.set_id(request.id);
    out.set_subject(request.binding.subject);
    out.set_resource(request.binding.resource);
    out.set_action(request.binding.action);
    out.set_expires_at(common::ToUnixSeconds(request.expires_at));
    out.set_decided_by(request.decided_by);
    out.set_state(std::string(zones::ApprovalStateName(request.state)));
    return out;
  }

  const common::Clock& clock_;
  spinel::common::Mutex mutex_;
  std::map<std::string, zones::ApprovalRequest> approvals_ ABSL_GUARDED_BY(mutex_);
  std::atomic<bool> down_{false};
  std::atomic<int> creates_{0};
  std::atomic<int> uses_{0};
};

class AuditInbox final : public agent::AuditReporter {
 public:
  absl::StatusOr<uint64_t> ReportAuditEvents(
      const spinel::v1::ReportAuditEventsRequest& request) override {
    ++calls_;
    if (down_) return absl::UnavailableError("connection refused (test)");
    spinel::common::MutexLock lock(mutex_);
    batches_.push_back(request);
    return static_cast<uint64_t>(request.events_size());
  }

  std::vector<spinel::v1::ReportAuditEventsRequest> batches() const {
    spinel::common::MutexLock lock(mutex_);
    return batches_;
  }
  std::vector<spinel::v1::AuditEvent> events() const {
    spinel::common::MutexLock lock(mutex_);
    std::vector<spinel::v1::AuditEvent> out;
    for (const auto& batch : batches_)
      out.insert(out.end(), batch.events().begin(), batch.events().end());
    return out;
  }
  void set_down(bool down) { down_ = down; }
  int calls() const { return calls_; }

 private:
  mutable spinel::common::Mutex mutex_;
  std::vector<spinel::v1::ReportAuditEventsRequest> batches_ ABSL_GUARDED_BY(mutex_);
  std::atomic<bool> down_{false};
  std::atomic<int> calls_{0};
};

}  // namespace spinel::testing
