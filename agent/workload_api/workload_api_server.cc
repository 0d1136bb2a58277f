#include "agent/workload_api/workload_api_server.h"

#include <grpcpp/server_posix.h>

#include "common/log.h"

namespace spinel::agent {

absl::StatusOr<std::unique_ptr<WorkloadApiServer>> WorkloadApiServer::Start(
    WorkloadApiServerOptions options, IdentityCache& cache, JwtMinter& minter,
    CallerAttestor attestor, const common::Clock& clock) {
  std::unique_ptr<WorkloadApiServer> server(new WorkloadApiServer(std::move(options)));
  absl::Status status = server->Init(cache, minter, std::move(attestor), clock);
  if (!status.ok()) {
    server->Stop();
    return status;
  }
  return server;
}

absl::Status WorkloadApiServer::Init(IdentityCache& cache, JwtMinter& minter,
                                     CallerAttestor attestor, const common::Clock& clock) {
  peers_ = std::make_unique<PeerRegistry>();
  service_ = std::make_unique<WorkloadService>(cache, minter, std::move(attestor), *peers_, clock,
                                               options_.service);
  probe_ = std::make_unique<PeerProbeService>(*peers_);
  wit_svids_ = std::make_unique<WitSvidsService>(*service_);
  grpc::ServerBuilder builder;  // no listening port: connections come from the listener
  builder.RegisterService(service_.get());
  builder.RegisterService(wit_svids_.get());
  builder.RegisterCallbackGenericService(probe_.get());
  for (grpc::Service* service : options_.additional_services) builder.RegisterService(service);
  builder.SetMaxReceiveMessageSize(options_.max_receive_message_bytes);
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) return absl::InternalError("workload API: gRPC server did not start");
  absl::StatusOr<std::unique_ptr<SocketListener>> listener =
      SocketListener::Create(options_.socket, *peers_);
  if (!listener.ok()) return listener.status();
  listener_ = std::move(*listener);
  grpc::Server* grpc_server = server_.get();
  absl::Status started =
      listener_->Start([grpc_server](int fd) { grpc::AddInsecureChannelFromFd(grpc_server, fd); });
  if (!started.ok()) return started;
  absl::Status self_test =
      RunPeerSelfTest(options_.socket.path, *probe_, options_.self_test_timeout);
  if (!self_test.ok()) {
    LOG_ERROR("workload API self-test failed", {{"error", std::string(self_test.message())}});
    return self_test;
  }
  LOG_INFO("workload API ready", {{"SPIFFE_ENDPOINT_SOCKET", endpoint()}});
  return absl::OkStatus();
}

WorkloadApiServer::~WorkloadApiServer() { Stop(); }

void WorkloadApiServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (listener_) listener_->Stop();  // first: no new connections reach gRPC
  if (service_) service_->Shutdown();
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + options_.shutdown_grace);
    server_->Wait();
  }
  server_.reset();
  listener_.reset();
  wit_svids_.reset();
  service_.reset();  // joins the workers and the stream dispatcher
  probe_.reset();
  peers_.reset();
}

}  // namespace spinel::agent
