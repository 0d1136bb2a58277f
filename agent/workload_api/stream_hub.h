// StreamHub: the set of open Workload API streams, and the one dispatcher thread that pokes
// them (SnapshotStream::Poke) whenever the IdentityCache publishes a new snapshot, and
// periodically for streams whose last message holds an SVID that has since expired.
//
// The cache's watch callback only raises a flag (it runs on the thread that changed the
// cache); the dispatcher then rebuilds each stream's response outside that thread. The flag
// lives in a shared object, so a callback that the cache copied before Stop() unregistered it
// stays harmless.
//
// Lifetime: the hub must outlive every stream it holds (streams unregister themselves in
// OnDone, which gRPC runs before grpc::Server::Shutdown returns). Stop() (also run by the
// destructor) unregisters from the cache and joins the dispatcher.
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include "agent/identity_cache.h"
#include "agent/workload_api/snapshot_stream.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace spinel::agent {

class StreamHub {
 public:
  // `cache` and `clock` must outlive the hub. `expiry_check_interval` (real time) is how often
  // streams are checked for SVIDs that expired in their last message.
  StreamHub(IdentityCache& cache, const common::Clock& clock,
            std::chrono::milliseconds expiry_check_interval);
  ~StreamHub();
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  // Registers `stream` (it unregisters itself when done). False after Close().
  bool Add(SnapshotStream* stream);
  // Finishes every open stream with `status` and refuses new ones.
  void Close(const grpc::Status& status);
  void Stop();
  size_t size() const;

 private:
  struct Signal {
    common::Mutex mutex;
    common::CondVar cv;
    bool changed ABSL_GUARDED_BY(mutex) = false;
    bool stopping ABSL_GUARDED_BY(mutex) = false;
  };

  void Remove(SnapshotStream* stream);
  // The open streams, each with a reference the caller must drop (Unref).
  std::vector<SnapshotStream*> Pin() const;
  void Dispatch();

  IdentityCache& cache_;
  const common::Clock& clock_;
  const std::chrono::milliseconds expiry_check_interval_;
  const std::shared_ptr<Signal> signal_ = std::make_shared<Signal>();
  uint64_t watch_id_ = 0;
  std::thread dispatcher_;

  mutable common::Mutex mutex_;
  std::set<SnapshotStream*> streams_ ABSL_GUARDED_BY(mutex_);
  bool closed_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace spinel::agent
