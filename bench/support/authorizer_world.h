// AuthorizerWorld: an agent's real Authorizer (agent/authz/authorizer.h) on a real IdentityCache
// filled the way the agent's sync fills it: one full SyncUpdate with the bundles and the zone
// policy document computed by the server's own AgentView from the shipped zones and real zone
// CAs (IssuerWorld, whose Issuer mints the subjects' SVIDs). Every decision is recorded with the
// real AuditForwarder, whose thread delivers batches to a reporter that acknowledges them in
// memory (no server). The approval backend refuses and counts its calls (benchmarks that need
// no step-up fail when it is reached).
//
// Build with Create(); not copyable. Authorize may be called from any thread.
#pragma once

#include <atomic>
#include <memory>

#include "absl/status/statusor.h"
#include "agent/authz/authorizer.h"
#include "bench/support/issuer_world.h"
#include "server/datastore/sqlite_datastore.h"

namespace spinel::bench {

class RefusingApprovals final : public agent::ApprovalBackend {
 public:
  absl::StatusOr<spinel::v1::Approval> CreateApproval(const spinel::v1::AccessRequest&) override;
  absl::StatusOr<spinel::v1::Approval> UseApproval(const std::string&,
                                                   const spinel::v1::AccessRequest&) override;
  size_t calls() const { return calls_; }

 private:
  std::atomic<size_t> calls_{0};
};

class AcknowledgingReporter final : public agent::AuditReporter {
 public:
  absl::StatusOr<uint64_t> ReportAuditEvents(
      const spinel::v1::ReportAuditEventsRequest& request) override {
    return static_cast<uint64_t>(request.events_size());
  }
};

struct AuthorizerWorld {
  static absl::StatusOr<std::unique_ptr<AuthorizerWorld>> Create();

  std::unique_ptr<IssuerWorld> world;
  std::unique_ptr<server::SqliteDatastore> datastore;
  agent::IdentityCache cache;
  RefusingApprovals approvals;
  AcknowledgingReporter reporter;
  std::unique_ptr<agent::AuditForwarder> audit;
  std::unique_ptr<agent::Authorizer> authorizer;
};

}  // namespace spinel::bench
