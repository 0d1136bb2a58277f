#include "agent/workload_api/workload_service.h"

#include <string>
#include <utility>

#include "agent/workload_api/workload_streams.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

constexpr char kSecurityHeader[] = "workload.spiffe.io";

}  // namespace

WorkloadService::WorkloadService(IdentityCache& cache, JwtMinter& minter, CallerAttestor attestor,
                                 PeerRegistry& peers, const common::Clock& clock,
                                 WorkloadServiceOptions options)
    : cache_(cache),
      attestor_(std::move(attestor)),
      peers_(peers),
      clock_(clock),
      options_(options),
      env_{cache, clock, options.deny_streams_without_identity},
      jwt_cache_(minter, clock, options.jwt_cache_entries),
      hub_(cache, clock, options.expiry_check_interval),
      workers_(options.worker_threads) {}

WorkloadService::~WorkloadService() {
  Shutdown();
  workers_.Stop();
  hub_.Stop();
}

void WorkloadService::Shutdown() {
  hub_.Close(grpc::Status(grpc::StatusCode::UNAVAILABLE, "workload API shutting down"));
}

grpc::Status WorkloadService::CheckSecurityHeader(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto [begin, end] = metadata.equal_range(kSecurityHeader);
  if (begin == end || std::next(begin) != end || begin->second != "true") {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "security header missing from request");
  }
  return grpc::Status::OK;
}

absl::StatusOr<ProcessInfo> WorkloadService::Caller(
    const grpc::CallbackServerContext& context) const {
  const std::string peer = context.peer();
  std::optional<ProcessInfo> credentials = peers_.Lookup(peer);
  if (!credentials.has_value()) {
    LOG_WARN("workload API: call from an unknown connection", {{"peer", peer}});
    return absl::PermissionDeniedError("caller could not be identified");
  }
  return *credentials;
}

absl::StatusOr<common::SelectorSet> WorkloadService::Attest(const ProcessInfo& peer) const {
  absl::StatusOr<common::SelectorSet> selectors = attestor_(peer);
  if (!selectors.ok()) {
    LOG_WARN(
        "workload API: attestation failed",
        {{"pid", std::to_string(peer.pid)}, {"error", std::string(selectors.status().message())}});
    return absl::PermissionDeniedError(
        common::StrCat("workload attestation failed: ", selectors.status().message()));
  }
  common::Normalize(*selectors);
  return selectors;
}

void WorkloadService::StartStream(grpc::CallbackServerContext* context, SnapshotStream* stream,
                                  AttestedHook on_attested) {
  if (grpc::Status header = CheckSecurityHeader(*context); !header.ok()) {
    stream->RequestFinish(header);
    return;
  }
  absl::StatusOr<ProcessInfo> caller = Caller(*context);
  if (!caller.ok()) {
    stream->RequestFinish(common::ToGrpcStatus(caller.status()));
    return;
  }
  if (!hub_.Add(stream)) {
    stream->RequestFinish(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "workload API shutting down"));
    return;
  }
  stream->Ref();  // for the task
  stream->BeginActivation();
  workers_.Post([this, stream, peer = *caller, on_attested = std::move(on_attested)] {
    absl::StatusOr<common::SelectorSet> selectors = Attest(peer);
    if (selectors.ok() && on_attested) {
      if (absl::Status hook = on_attested(*selectors); !hook.ok()) selectors = hook;
    }
    stream->Activate(selectors);
    stream->Unref();
  });
}

grpc::ServerWriteReactor<::X509SVIDResponse>* WorkloadService::FetchX509SVID(
    grpc::CallbackServerContext* context, const ::X509SVIDRequest*) {
  auto* stream = new X509SvidStream(env_);
  StartStream(context, stream);
  return stream;
}

grpc::ServerWriteReactor<::X509BundlesResponse>* WorkloadService::FetchX509Bundles(
    grpc::CallbackServerContext* context, const ::X509BundlesRequest*) {
  auto* stream = new X509BundlesStream(env_);
  StartStream(context, stream);
  return stream;
}

grpc::ServerWriteReactor<::JWTBundlesResponse>* WorkloadService::FetchJWTBundles(
    grpc::CallbackServerContext* context, const ::JWTBundlesRequest*) {
  auto* stream = new JwtBundlesStream(env_);
  StartStream(context, stream);
  return stream;
}

}  // namespace spinel::agent
