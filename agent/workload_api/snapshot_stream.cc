#include "agent/workload_api/snapshot_stream.h"

#include "common/grpc_status.h"

namespace spinel::agent {

void SnapshotStream::BeginActivation() {
  common::MutexLock lock(mutex_);
  activating_ = true;
}

void SnapshotStream::Activate(const absl::StatusOr<common::SelectorSet>& selectors) {
  Action action = Action::kNone;
  {
    common::MutexLock lock(mutex_);
    activating_ = false;
    if (finish_requested_) {
      if (!finished_ && !in_flight_) {
        finished_ = true;  // a finish deferred while the attestation ran
        action = Action::kFinish;
      }
    } else if (!selectors.ok()) {
      action = RequestFinishLocked(common::ToGrpcStatus(selectors.status()));
    } else {
      selectors_ = *selectors;
      active_ = true;
      action = PokeLocked(*env_.cache.Snapshot());
    }
  }
  Run(action);
}

void SnapshotStream::Poke(const CacheSnapshot& snapshot) {
  Action action = Action::kNone;
  {
    common::MutexLock lock(mutex_);
    action = PokeLocked(snapshot);
  }
  Run(action);
}

SnapshotStream::Action SnapshotStream::PokeLocked(const CacheSnapshot& snapshot) {
  if (!active_ || finish_requested_) return Action::kNone;
  // A dispatcher may still hold an older snapshot than one this stream already used.
  if (snapshot.generation < generation_) return Action::kNone;
  if (in_flight_) {
    dirty_ = true;
    return Action::kNone;
  }
  generation_ = snapshot.generation;
  BuiltResponse built = Build(snapshot, selectors_, env_.clock.Now());
  if (!built.has_identity) {
    WipeMessage();
    if (sent_any_ || DenyWithoutIdentity(snapshot)) {
      return RequestFinishLocked(
          grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no identity issued"));
    }
    return Action::kNone;  // hold the stream until the caller has an identity
  }
  next_expiry_.store(built.next_expiry.time_since_epoch().count());
  if (sent_any_ && built.fingerprint == last_fingerprint_) {
    WipeMessage();
    return Action::kNone;
  }
  last_fingerprint_ = std::move(built.fingerprint);
  sent_any_ = true;
  in_flight_ = true;
  return Action::kWrite;
}

bool SnapshotStream::DenyWithoutIdentity(const CacheSnapshot& snapshot) const {
  // Before the first sync, or while a matching entry waits for its SVID, the caller is held:
  // the answer is not known yet.
  return env_.deny_without_identity && snapshot.synced && snapshot.Matching(selectors_).empty();
}

void SnapshotStream::RequestFinish(const grpc::Status& status) {
  Action action = Action::kNone;
  {
    common::MutexLock lock(mutex_);
    action = RequestFinishLocked(status);
  }
  Run(action);
}

SnapshotStream::Action SnapshotStream::RequestFinishLocked(const grpc::Status& status) {
  if (finish_requested_) return Action::kNone;
  finish_requested_ = true;
  finish_status_ = status;
  // Deferred: WriteDone finishes after the write; Activate after the attestation (which may
  // use the connection's pidfd, valid only while this call keeps the connection open).
  if (in_flight_ || activating_) return Action::kNone;
  finished_ = true;
  return Action::kFinish;
}

void SnapshotStream::WriteDone(bool ok) {
  Action action = Action::kNone;
  {
    common::MutexLock lock(mutex_);
    in_flight_ = false;
    WipeMessage();
    if (finish_requested_ && !finished_) {
      finished_ = true;
      action = Action::kFinish;
    } else if (!ok) {
      action = RequestFinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "write failed"));
    } else if (dirty_) {
      dirty_ = false;
      action = PokeLocked(*env_.cache.Snapshot());
    }
  }
  Run(action);
}

void SnapshotStream::Cancelled() {
  RequestFinish(grpc::Status(grpc::StatusCode::CANCELLED, "stream cancelled"));
}

void SnapshotStream::Done() {
  if (on_done_) on_done_(this);
  Unref();
}

void SnapshotStream::Run(Action action) {
  if (action == Action::kWrite) StartWriteCall();
  if (action == Action::kFinish) {
    grpc::Status status;
    {
      common::MutexLock lock(mutex_);
      status = finish_status_;  // set once, before finished_
    }
    FinishCall(status);
  }
}

}  // namespace spinel::agent
