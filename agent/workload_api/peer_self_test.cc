#include "agent/workload_api/peer_self_test.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <future>

#include "common/random.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::StrCat;

class UnimplementedReactor final : public grpc::ServerGenericBidiReactor {
 public:
  UnimplementedReactor() { Finish(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "")); }
  void OnDone() override { delete this; }
};

std::string MakeNonce() {
  absl::StatusOr<std::string> nonce = common::RandomHex(16);
  // Without randomness the probe still works; the nonce only keeps others from faking it.
  return nonce.ok() ? *nonce : StrCat("pid-", static_cast<int64_t>(::getpid()));
}

}  // namespace

PeerProbeService::PeerProbeService(PeerRegistry& registry)
    : registry_(registry), nonce_(MakeNonce()) {}

grpc::ServerGenericBidiReactor* PeerProbeService::CreateReactor(
    grpc::GenericCallbackServerContext* context) {
  if (context->method() == kProbeMethod) {
    const auto& metadata = context->client_metadata();
    auto nonce = metadata.find(kProbeNonceHeader);
    if (nonce != metadata.end() && nonce->second == nonce_) {
      Observation seen{.peer = context->peer()};
      std::optional<ProcessInfo> credentials = registry_.Lookup(seen.peer);
      seen.registered_as_self = credentials.has_value() && credentials->pid == ::getpid();
      common::MutexLock lock(mutex_);
      observation_ = std::move(seen);
    }
  }
  return new UnimplementedReactor();
}

std::optional<PeerProbeService::Observation> PeerProbeService::observation() const {
  common::MutexLock lock(mutex_);
  return observation_;
}

absl::Status RunPeerSelfTest(const std::string& socket_path, const PeerProbeService& probe,
                             std::chrono::milliseconds timeout) {
  auto channel = grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  context.set_wait_for_ready(true);
  context.AddMetadata(kProbeNonceHeader, probe.nonce());
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1);  // a default ByteBuffer is not a valid message
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stub.UnaryCall(&context, kProbeMethod, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  grpc::Status status = done.get_future().get();
  std::optional<PeerProbeService::Observation> seen = probe.observation();
  if (!seen.has_value()) {
    return absl::UnavailableError(
        StrCat("workload API self-test: probe did not reach the server: ", status.error_message()));
  }
  if (!PeerRegistry::ParsePeer(seen->peer).has_value() || !seen->registered_as_self) {
    return absl::FailedPreconditionError(StrCat(
        "workload API self-test failed: gRPC reported the caller as ", common::Quote(seen->peer),
        ", not \"fd:N\" of a connection this agent accepted; callers cannot be identified"));
  }
  return absl::OkStatus();
}

}  // namespace spinel::agent
