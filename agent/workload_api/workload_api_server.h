// WorkloadApiServer: the agent's Workload API endpoint, assembled. It owns the PeerRegistry,
// the WorkloadService (with spinel.v1.WitSvids beside it), a gRPC server with no listening port of
// its own, and the SocketListener that accepts connections on the Unix socket and hands each one,
// with its peer credentials recorded, to gRPC (grpc::AddInsecureChannelFromFd).
//
//   auto server = WorkloadApiServer::Start(options, cache, minter, attestor, clock);
//   ...                       // workloads use SPIFFE_ENDPOINT_SOCKET=unix://<socket path>
//   (*server)->Stop();        // or destroy it
//
// Start() runs the peer-credential self-test (peer_self_test.h) before returning, and fails
// (stopping everything again) when gRPC does not report callers as "fd:N".
// Stop() order: the listener stops accepting (and removes the socket file), open streams are
// finished with UNAVAILABLE, the gRPC server shuts down (waiting up to shutdown_grace for
// calls in progress, then cancelling them), then the service's threads are joined.
// Thread-safety: Start/Stop from one owning thread. The cache, minter and clock must outlive
// the server; the attestor is called concurrently from worker threads.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/identity_cache.h"
#include "agent/jwt_minter.h"
#include "agent/workload_api/peer_registry.h"
#include "agent/workload_api/peer_self_test.h"
#include "agent/workload_api/socket_listener.h"
#include "agent/workload_api/wit_svids_service.h"
#include "agent/workload_api/workload_service.h"
#include "common/clock.h"

namespace spinel::agent {

struct WorkloadApiServerOptions {
  SocketListenerOptions socket;  // socket.path is required
  WorkloadServiceOptions service;
  // Largest request gRPC accepts (requests are tiny; a 16 KiB JWT is the biggest legitimate
  // field). Larger ones are refused by gRPC with RESOURCE_EXHAUSTED.
  int max_receive_message_bytes = 256 * 1024;
  std::chrono::milliseconds self_test_timeout{5000};
  // Further gRPC services served on the same socket (e.g. spinel.v1.Authorization). Not owned:
  // each must outlive the server (Stop() shuts gRPC down before returning).
  std::vector<grpc::Service*> additional_services;
  std::chrono::milliseconds shutdown_grace{2000};
};

class WorkloadApiServer {
 public:
  // Errors: those of SocketListener::Create, Internal when gRPC fails to start, and the
  // self-test's FailedPrecondition / Unavailable.
  static absl::StatusOr<std::unique_ptr<WorkloadApiServer>> Start(WorkloadApiServerOptions options,
                                                                  IdentityCache& cache,
                                                                  JwtMinter& minter,
                                                                  CallerAttestor attestor,
                                                                  const common::Clock& clock);
  ~WorkloadApiServer();
  WorkloadApiServer(const WorkloadApiServer&) = delete;
  WorkloadApiServer& operator=(const WorkloadApiServer&) = delete;

  // Idempotent.
  void Stop();

  const std::string& socket_path() const { return options_.socket.path; }
  // "unix:///path", the value workloads put in SPIFFE_ENDPOINT_SOCKET.
  std::string endpoint() const { return "unix://" + options_.socket.path; }
  WorkloadService& service() { return *service_; }
  PeerRegistry& peers() { return *peers_; }
  const SocketListener& listener() const { return *listener_; }

 private:
  explicit WorkloadApiServer(WorkloadApiServerOptions options) : options_(std::move(options)) {}
  absl::Status Init(IdentityCache& cache, JwtMinter& minter, CallerAttestor attestor,
                    const common::Clock& clock);

  const WorkloadApiServerOptions options_;
  // Destroyed bottom-up; Stop() tears them down in the documented order first.
  std::unique_ptr<PeerRegistry> peers_;
  std::unique_ptr<WorkloadService> service_;
  std::unique_ptr<WitSvidsService> wit_svids_;  // spinel.v1.WitSvids, served through service_
  std::unique_ptr<PeerProbeService> probe_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<SocketListener> listener_;
  bool stopped_ = false;
};

}  // namespace spinel::agent
