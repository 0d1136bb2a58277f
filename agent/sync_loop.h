// SyncLoop: keeps the agent's IdentityCache in step with the server. It holds the server's Sync
// stream open, applies every update as it arrives, trusts the control bundle the server pushes,
// and keeps the agent SVID renewed. When the server is unreachable it retries with capped
// exponential backoff and jitter (the cache keeps serving meanwhile); when the server refuses
// the agent SVID it re-attests if it can. On reconnection the server sends a full snapshot, so
// the agent catches up on everything it missed.
// Thread-safe; Start() runs it on a background thread until Stop().
#pragma once

#include <atomic>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "agent/config.h"
#include "agent/identity_cache.h"
#include "agent/node_session.h"
#include "agent/server_client.h"
#include "common/mutex.h"

namespace spinel::agent {

// Capped exponential backoff with jitter, for reconnecting: the n-th delay (n from 0) is
// min * 2^n capped at max, times a random factor in [0.8, 1.2], and never above max (nor below
// zero). Reset() starts again from min. Not thread-safe.
class ReconnectBackoff {
 public:
  ReconnectBackoff(common::Duration min, common::Duration max) : min_(min), max_(max) {
    base_ = min_;
  }
  // The delay to wait now; the next one is (about) twice as long, up to max.
  common::Duration Next();
  void Reset() { base_ = min_; }

 private:
  const common::Duration min_;
  const common::Duration max_;
  common::Duration base_;  // un-jittered current step
};

class SyncLoop {
 public:
  SyncLoop(const AgentConfig& config, ServerClient& client, NodeSession& session,
           IdentityCache& cache, const common::Clock& clock)
      : config_(config), client_(client), session_(session), cache_(cache), clock_(clock) {}
  ~SyncLoop();

  void Start();
  void Stop();
  // True while a Sync stream is open and has delivered its first snapshot.
  bool connected() const { return connected_.load(); }

 private:
  void Run();
  // One stream: returns how it ended.
  absl::Status RunStream();
  void OnUpdate(const spinel::v1::SyncUpdate& update);
  // Sleeps up to `d`; false when stopping.
  bool Sleep(common::Duration d);

  const AgentConfig& config_;
  ServerClient& client_;
  NodeSession& session_;
  IdentityCache& cache_;
  const common::Clock& clock_;
  std::atomic<bool> connected_{false};
  common::Mutex mutex_;
  common::CondVar wake_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::shared_ptr<grpc::ClientContext> stream_context_ ABSL_GUARDED_BY(mutex_);
  std::thread thread_;
  std::thread renew_thread_;
};

}  // namespace spinel::agent
