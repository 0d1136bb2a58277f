// Agent: the composition root of spinel-agent. Start() loads the control trust bundle,
// establishes the node identity (persisted agent SVID, or attestation), then starts the
// server sync, the SVID rotator and the Workload API on the configured socket. Workload
// identities are served from the cache even while the server is unreachable.
// Start/Stop from one owning thread.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "agent/config.h"
#include "common/clock.h"

namespace spinel::agent {

class Agent {
 public:
  static absl::StatusOr<std::unique_ptr<Agent>> Start(AgentConfig config,
                                                      const common::Clock& clock);
  ~Agent();
  void Stop();

  struct Impl;

 private:
  explicit Agent(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace spinel::agent
