#include "bench/support/authorizer_world.h"

#include "common/status_macros.h"
#include "server/sync/agent_sync.h"

namespace spinel::bench {

absl::StatusOr<spinel::v1::Approval> RefusingApprovals::CreateApproval(
    const spinel::v1::AccessRequest&) {
  ++calls_;
  return absl::FailedPreconditionError("no approvals in this benchmark");
}

absl::StatusOr<spinel::v1::Approval> RefusingApprovals::UseApproval(
    const std::string&, const spinel::v1::AccessRequest&) {
  ++calls_;
  return absl::FailedPreconditionError("no approvals in this benchmark");
}

absl::StatusOr<std::unique_ptr<AuthorizerWorld>> AuthorizerWorld::Create() {
  auto in = std::make_unique<AuthorizerWorld>();
  const common::Clock& clock = common::SystemClock::Get();
  SPINEL_ASSIGN_OR_RETURN(in->world, IssuerWorld::Create());
  SPINEL_ASSIGN_OR_RETURN(in->datastore, server::SqliteDatastore::Open(":memory:", clock));
  server::AgentView view(*in->datastore, in->world->zones(), in->world->cas(), in->world->control(),
                         clock);
  spinel::v1::SyncUpdate update;
  update.set_full_snapshot(true);
  for (spinel::v1::Bundle& bundle : view.Bundles()) *update.add_bundles() = std::move(bundle);
  update.set_policy(view.PolicyDocument());
  SPINEL_RETURN_IF_ERROR(in->cache.ApplySyncUpdate(update));
  in->audit = std::make_unique<agent::AuditForwarder>(in->reporter, clock);
  in->audit->Start();
  in->authorizer = std::make_unique<agent::Authorizer>(in->cache, in->approvals, *in->audit, clock);
  return in;
}

}  // namespace spinel::bench
