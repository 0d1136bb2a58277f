// ChangeLog: the datastore-wide record of committed changes (revisions, change events and the
// commit listener) that readers of every other part use to learn what changed (one part of the
// Datastore, datastore.h; ChangeFeed, change_feed.h, delivers it in order).
//
// Contract: that of every Datastore part (datastore.h): thread-safe, durable, each method one
// transaction, errors as values with the codes listed there, no default arguments.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/spiffe_id.h"
#include "server/datastore/types.h"

namespace spinel::server {

// How far (in revisions) ListChangeEvents keeps history that later events superseded.
inline constexpr int64_t kChangeEventRetention = 10'000;

class ChangeLog {
 public:
  virtual ~ChangeLog() = default;

  // Every committed write of an entry, agent, bundle (own, federated or a replica's published
  // one) or federation relationship appends a ChangeEvent, in the same transaction, with the
  // next revision of the datastore-wide change counter: revisions commit in increasing order,
  // one after the other without gaps, and a write that fails or rolls back appends nothing.
  // Writes of join tokens, approvals, the audit log and federation refresh state append none.
  //
  // The datastore-wide change counter: the revision of the latest change (0 when nothing was
  // ever written). Never decreases.
  virtual absl::StatusOr<int64_t> CurrentRevision() = 0;
  // The latest change of every entry, agent and bundle changed after `since_revision`, in
  // revision order; at most `limit` of them (0: all). A caller that remembers the last revision
  // it saw gets every later change, deletions included.
  virtual absl::StatusOr<std::vector<Change>> ListChanges(int64_t since_revision, int limit) = 0;
  // Every change event after `since_revision`, in revision order; at most `limit` (0: all).
  // Events superseded by a later event of the same object and more than kChangeEventRetention
  // revisions old are pruned: a reader that fell that far behind sees a gap in the revisions
  // (and must assume anything changed).
  virtual absl::StatusOr<std::vector<ChangeEvent>> ListChangeEvents(int64_t since_revision,
                                                                    int limit) = 0;
  // Calls `listener` after every commit of this datastore object that appended change events,
  // on the committing thread, with those events in revision order (concurrent commits may call
  // it concurrently and out of order). It must not block. Replaces any earlier listener; an
  // empty function removes it.
  using ChangeListener = std::function<void(const std::vector<ChangeEvent>&)>;
  virtual void SetChangeListener(ChangeListener listener) = 0;
};

}  // namespace spinel::server
