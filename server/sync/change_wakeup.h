// ChangeWakeup: the ChangeFeed subscriber that wakes agent sync streams (SyncHub). It is the
// only caller of the hub's wake-ups, so every wake-up follows a change the feed delivered: a
// commit of this replica, a commit of another replica read from the change log, or a local
// change published with ChangeFeed::PublishLocal.
//
// What a batch wakes (WakeupsFor):
//   - an entry event whose parent IDs are known and do not include the server's own ID: the
//     streams of agents those parents concern (SyncHub::NotifyEntriesChanged; an update names
//     the old and the new parent, so both sides are told);
//   - an entry under the server's ID (a node alias: it changes which agents other entries
//     reach), an entry event without parents, an agent, bundle, federation or zones event, or
//     a batch marked `resync`: every stream.
// Events of other replicas come from the change log with their parent IDs, so a change made
// through replica A wakes on replica B only the streams it concerns.
//
// Copyable and cheap; thread-safe (it only reads its members). The hub must outlive every
// copy subscribed to a feed (stop the feed first).
#pragma once

#include <set>
#include <string>

#include "server/datastore/change_feed.h"
#include "server/sync/agent_sync.h"

namespace spinel::server {

// The wake-ups one batch calls for.
struct Wakeups {
  bool all = false;                  // every stream
  std::set<std::string> parent_ids;  // when not `all`: the streams these parents concern
};

// The wake-ups of `batch`; `server_id` is spiffe://<control>/spinel/server (ServerId()).
Wakeups WakeupsFor(const ChangeBatch& batch, const std::string& server_id);

class ChangeWakeup {
 public:
  ChangeWakeup(SyncHub& hub, std::string server_id)
      : hub_(&hub), server_id_(std::move(server_id)) {}

  // Wakes the hub's streams as WakeupsFor(batch) says (nothing for an empty batch).
  void operator()(const ChangeBatch& batch) const;

 private:
  SyncHub* hub_;
  std::string server_id_;
};

// Subscribes a ChangeWakeup of `hub` to `feed`.
void WakeSyncOnChanges(ChangeFeed& feed, SyncHub& hub, const common::SpiffeId& server_id);

}  // namespace spinel::server
