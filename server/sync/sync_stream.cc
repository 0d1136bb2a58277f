#include "server/sync/sync_stream.h"

#include "common/grpc_status.h"
#include "common/log.h"
#include "server/api/proto_convert.h"

namespace spinel::server {

void DescribeSyncMetrics(Metrics& metrics) {
  metrics.Describe(kMetricSyncStreamRefreshes, "counter",
                   "Agent views recomputed by sync streams woken by a change.");
}

SyncStream::SyncStream(const SyncStreamDeps& deps, AttestedAgent agent)
    : deps_(deps), agent_(std::move(agent)) {}

void SyncStream::Begin() {
  // Subscribe before computing the first view: a change committed after the view was read
  // then always triggers a Refresh, which waits for the lock and sends it as a delta. A
  // Refresh that runs before the first view is ignored (that view already includes it).
  deps_.hub.Subscribe(this);
  common::RecursiveMutexLock lock(mutex_);
  absl::StatusOr<AgentViewData> view = deps_.view.Compute(agent_);
  if (!view.ok()) {
    FinishLocked(common::ToGrpcStatus(view.status()));
    return;
  }
  RememberParents(*view);
  EnqueueLocked(*Diff(*view, /*full=*/true));
  begun_ = true;
}

void SyncStream::RememberParents(const AgentViewData& view) {
  std::set<std::string> parents;
  for (const common::SpiffeId& id : view.parent_ids) parents.insert(id.ToString());
  common::MutexLock lock(parents_mutex_);
  parent_ids_ = std::move(parents);
}

bool SyncStream::ConcernsParents(const std::set<std::string>& parent_ids) const {
  common::MutexLock lock(parents_mutex_);
  if (!parent_ids_) return true;
  for (const std::string& id : parent_ids) {
    if (parent_ids_->count(id) > 0) return true;
  }
  return false;
}

std::optional<spinel::v1::SyncUpdate> SyncStream::Diff(const AgentViewData& view, bool full) {
  spinel::v1::SyncUpdate update;
  update.set_full_snapshot(full);
  std::map<std::string, int64_t> current;
  for (const RegistrationEntry& entry : view.entries) {
    current.emplace(entry.id, entry.revision_number);
    auto sent = sent_entries_.find(entry.id);
    if (full || sent == sent_entries_.end() || sent->second != entry.revision_number) {
      *update.add_entries() = EntryToProto(entry);
    }
  }
  for (const auto& [id, revision] : sent_entries_) {
    if (!full && current.count(id) == 0) update.add_removed_entry_ids(id);
  }
  std::map<std::string, uint64_t> bundles;
  for (const spinel::v1::Bundle& bundle : view.bundles) {
    bundles.emplace(bundle.trust_domain(), bundle.sequence());
    auto sent = sent_bundles_.find(bundle.trust_domain());
    if (full || sent == sent_bundles_.end() || sent->second != bundle.sequence()) {
      *update.add_bundles() = bundle;
    }
  }
  for (const auto& [td, sequence] : sent_bundles_) {
    if (!full && bundles.count(td) == 0) update.add_removed_trust_domains(td);
  }
  if (full || view.policy != sent_policy_) update.set_policy(view.policy);
  const bool changed = full || update.entries_size() > 0 || update.removed_entry_ids_size() > 0 ||
                       update.bundles_size() > 0 || update.removed_trust_domains_size() > 0 ||
                       !update.policy().empty();
  if (!changed) return std::nullopt;
  sent_entries_ = std::move(current);
  sent_bundles_ = std::move(bundles);
  sent_policy_ = view.policy;
  absl::StatusOr<int64_t> revision = deps_.changes.CurrentRevision();
  update.set_revision(revision.ok() ? *revision : 0);
  return update;
}

void SyncStream::Refresh() {
  absl::StatusOr<AttestedAgent> record = deps_.agents.GetAttestedAgent(agent_.spiffe_id);
  common::RecursiveMutexLock lock(mutex_);
  if (finished_ || !begun_) return;
  deps_.metrics.Increment(kMetricSyncStreamRefreshes);
  if (absl::IsNotFound(record.status()) || (record.ok() && record->banned)) {
    FinishLocked(grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "agent was evicted or banned"));
    return;
  }
  AttestedAgent current = record.ok() ? *record : agent_;
  absl::StatusOr<AgentViewData> view = deps_.view.Compute(current);
  if (!view.ok()) {
    LOG_WARN("agent sync: cannot compute view", {{"agent_id", agent_.spiffe_id.ToString()},
                                                 {"error", std::string(view.status().message())}});
    return;
  }
  RememberParents(*view);
  std::optional<spinel::v1::SyncUpdate> update = Diff(*view, /*full=*/false);
  if (update) EnqueueLocked(std::move(*update));
}

void SyncStream::EnqueueLocked(spinel::v1::SyncUpdate update) {
  queue_.push_back(std::move(update));
  if (!writing_ && !finished_) {
    writing_ = true;
    StartWrite(&queue_.front());
  }
}

void SyncStream::OnWriteDone(bool ok) {
  common::RecursiveMutexLock lock(mutex_);
  queue_.pop_front();
  writing_ = false;
  if (!ok) {
    FinishLocked(grpc::Status(grpc::StatusCode::UNAVAILABLE, "write failed"));
    return;
  }
  if (!queue_.empty() && !finished_) {
    writing_ = true;
    StartWrite(&queue_.front());
  }
}

void SyncStream::OnCancel() {
  common::RecursiveMutexLock lock(mutex_);
  FinishLocked(grpc::Status::CANCELLED);
}

void SyncStream::FinishLocked(const grpc::Status& status) {
  if (finished_) return;
  finished_ = true;
  Finish(status);
}

void SyncStream::OnDone() {
  deps_.hub.Unsubscribe(this);
  delete this;
}

}  // namespace spinel::server
