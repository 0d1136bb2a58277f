// Start-up self-test of the peer-credential mechanism (see peer_registry.h): the agent connects
// to its own Workload API socket and checks that gRPC reports the call's peer as "fd:N" and that
// the PeerRegistry holds the agent's own pid under N. If a gRPC upgrade changed peer() the
// Workload API could not tell callers apart, so the agent must refuse to start.
//
// PeerProbeService is a gRPC generic callback service registered on the Workload API server.
// It answers every method that no registered service has with UNIMPLEMENTED (exactly what gRPC
// does without it), and additionally, for the probe method kProbeMethod carrying this
// process's random nonce in metadata, records what the server saw. The probe method is under
// its own service name, so the Workload API service itself is not extended (spec E11).
//
// Thread-safety: CreateReactor runs on gRPC threads; RunPeerSelfTest on any one thread.
#pragma once

#include <grpcpp/generic/async_generic_service.h>

#include <chrono>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "agent/workload_api/peer_registry.h"
#include "common/mutex.h"

namespace spinel::agent {

inline constexpr char kProbeMethod[] = "/spinel.agent.WorkloadApiSelfTest/Probe";
inline constexpr char kProbeNonceHeader[] = "spinel-self-test-nonce";

class PeerProbeService final : public grpc::CallbackGenericService {
 public:
  // `registry` must outlive the service.
  explicit PeerProbeService(PeerRegistry& registry);

  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* context) override;

  const std::string& nonce() const { return nonce_; }
  // The peer() string of the last valid probe and whether the registry knew it as this process.
  struct Observation {
    std::string peer;
    bool registered_as_self = false;
  };
  std::optional<Observation> observation() const;

 private:
  PeerRegistry& registry_;
  const std::string nonce_;
  mutable common::Mutex mutex_;
  std::optional<Observation> observation_ ABSL_GUARDED_BY(mutex_);
};

// Calls the probe over `socket_path` and checks the observation. FailedPrecondition naming what
// gRPC reported when peer() is not "fd:N" of this process; Unavailable when the probe could not
// reach the server within `timeout`.
absl::Status RunPeerSelfTest(const std::string& socket_path, const PeerProbeService& probe,
                             std::chrono::milliseconds timeout);

}  // namespace spinel::agent
