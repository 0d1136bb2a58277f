// WorkQueue: a small fixed pool of threads for the Workload API's blocking work (workload
// attestation reads /proc and hashes executables; JWT minting is a server round trip), so that
// gRPC's callback threads only ever run short, non-blocking code.
//
// Thread-safety: Post may be called from any thread. Stop (also run by the destructor) runs
// every task already posted, then joins the threads; a task posted after Stop runs inline on
// the posting thread, so no task is ever dropped (each one finishes an RPC).
#pragma once

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace spinel::agent {

class WorkQueue {
 public:
  explicit WorkQueue(size_t threads);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Post(std::function<void()> task);
  void Stop();

 private:
  void Run();

  common::Mutex mutex_;
  common::CondVar cv_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace spinel::agent
