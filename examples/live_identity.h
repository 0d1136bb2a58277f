// LiveIdentity: a workload's current X.509 identity, kept up to date from the Workload API
// stream the way long-running SPIFFE workloads do it (go-spiffe's X509Source): every rotation
// and bundle change the agent pushes replaces the identity new TLS connections use.
//
// Thread-safety: Current(), rotations() and WaitForRotations() may be called from any thread.
// The OnUpdate callback runs on the watcher thread. The destructor stops and joins it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "examples/workload_identity.h"

namespace spinel::examples {

class LiveIdentity {
 public:
  // Called with the previous and the new identity whenever the default SVID changes.
  using OnRotate =
      std::function<void(const WorkloadIdentity& before, const WorkloadIdentity& after)>;

  // Waits up to `timeout` for the first identity from the agent at `socket_path`, then keeps
  // watching (reconnecting after a second when the stream breaks, e.g. an agent restart).
  static absl::StatusOr<std::unique_ptr<LiveIdentity>> Start(const std::string& socket_path,
                                                             std::chrono::milliseconds timeout,
                                                             OnRotate on_rotate);
  ~LiveIdentity();
  LiveIdentity(const LiveIdentity&) = delete;
  LiveIdentity& operator=(const LiveIdentity&) = delete;

  std::shared_ptr<const WorkloadIdentity> Current() const;
  int rotations() const;
  // True once at least `count` rotations were seen; false when `timeout` passed first.
  bool WaitForRotations(int count, std::chrono::milliseconds timeout) const;
  WorkloadApiClient& client() { return *client_; }

 private:
  LiveIdentity(std::unique_ptr<WorkloadApiClient> client,
               std::shared_ptr<const WorkloadIdentity> first, OnRotate on_rotate);
  void Watch();
  void Update(std::shared_ptr<const WorkloadIdentity> next);

  std::unique_ptr<WorkloadApiClient> client_;
  OnRotate on_rotate_;
  mutable common::Mutex mu_;
  mutable common::CondVar changed_;
  std::shared_ptr<const WorkloadIdentity> current_ ABSL_GUARDED_BY(mu_);
  int rotations_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread watcher_;
};

}  // namespace spinel::examples
