// A small Workload API client for the agent CLI: the channel to the agent socket and the
// security header every call must carry.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "workload.grpc.pb.h"

namespace spinel::agent::cli {

// The socket path: --socket if given, else SPIFFE_ENDPOINT_SOCKET (unix:///path), else the
// default /run/spinel/agent/workload.sock.
std::string ResolveSocket(const std::string& flag);

std::unique_ptr<::SpiffeWorkloadAPI::Stub> ConnectWorkloadApi(const std::string& socket_path);

// A context with the `workload.spiffe.io: true` header and a deadline (none when zero).
std::unique_ptr<grpc::ClientContext> WorkloadContext(std::chrono::seconds deadline);

// "error: PERMISSION_DENIED: no identity issued" on stderr; returns exit code 1.
int PrintRpcError(const grpc::Status& status);

}  // namespace spinel::agent::cli
