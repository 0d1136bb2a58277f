// SyncStream: one agent's Sync call (gRPC callback API). It sends the agent's full view first,
// then, whenever the SyncHub says something changed, recomputes the view and sends only what
// differs: added or updated entries (by revision), removed entry ids, changed bundles (by
// sequence) and a changed policy document. Nothing is sent when nothing changed. If the agent
// is evicted or banned meanwhile, the stream ends with PermissionDenied.
//
// Every view recomputed on a wake-up counts in spinel_sync_stream_refreshes_total (how much work
// the change feed's wake-ups cause: a well-targeted change recomputes few views).
//
// Lifetime: created by the service, deletes itself in OnDone (after unsubscribing from the hub).
// Writes are serialised: at most one is outstanding; a refresh during a write is sent after it.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include <grpcpp/grpcpp.h>

#include "agent.pb.h"
#include "common/mutex.h"
#include "common/recursive_mutex.h"
#include "server/datastore/agent_store.h"
#include "server/datastore/change_log.h"
#include "server/metrics/metrics.h"
#include "server/sync/agent_sync.h"

namespace spinel::server {

inline constexpr char kMetricSyncStreamRefreshes[] = "spinel_sync_stream_refreshes_total";

// Describes the sync streams' metrics on `metrics` (the composition root calls it once).
void DescribeSyncMetrics(Metrics& metrics);
// The parts a stream uses (references; they must outlive every stream).
struct SyncStreamDeps {
  SyncHub& hub;        // change notifications
  AgentView& view;     // what the agent is served
  AgentStore& agents;  // whether the agent is still attested and not banned
  ChangeLog& changes;  // the revision each update carries
  Metrics& metrics;    // counts the views recomputed (kMetricSyncStreamRefreshes)
};

class SyncStream final : public grpc::ServerWriteReactor<spinel::v1::SyncUpdate>,
                         public SyncSubscriber {
 public:
  SyncStream(const SyncStreamDeps& deps, AttestedAgent agent);

  // Computes and sends the first (full) update and subscribes to changes.
  void Begin();
  void Refresh() override;
  // True until a view was computed, then whether `parent_ids` meets that view's parents.
  bool ConcernsParents(const std::set<std::string>& parent_ids) const override;

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Builds the difference between `view` and what was sent; nullopt when nothing changed.
  std::optional<spinel::v1::SyncUpdate> Diff(const AgentViewData& view, bool full)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void EnqueueLocked(spinel::v1::SyncUpdate update) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void FinishLocked(const grpc::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void RememberParents(const AgentViewData& view);

  const SyncStreamDeps deps_;
  const AttestedAgent agent_;
  // Recursive: gRPC may run OnWriteDone inline from StartWrite on some paths.
  common::RecursiveMutex mutex_;
  std::map<std::string, int64_t> sent_entries_ ABSL_GUARDED_BY(mutex_);  // id -> revision
  // trust domain -> sequence
  std::map<std::string, uint64_t> sent_bundles_ ABSL_GUARDED_BY(mutex_);
  std::string sent_policy_ ABSL_GUARDED_BY(mutex_);
  std::deque<spinel::v1::SyncUpdate> queue_ ABSL_GUARDED_BY(mutex_);
  bool writing_ ABSL_GUARDED_BY(mutex_) = false;
  bool finished_ ABSL_GUARDED_BY(mutex_) = false;
  bool begun_ ABSL_GUARDED_BY(mutex_) = false;  // first snapshot queued
  // The parents of the last view computed (none yet: nullopt); read by the hub's thread.
  mutable common::Mutex parents_mutex_;
  std::optional<std::set<std::string>> parent_ids_ ABSL_GUARDED_BY(parents_mutex_);
};

}  // namespace spinel::server
