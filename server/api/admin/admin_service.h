// The admin API (common/proto/admin.proto), served on a Unix socket whose file permissions
// are the access control (mode 0600: only the server's user; the CLI runs as that user or
// root). Every request is validated before anything is written; errors carry the right gRPC
// status (InvalidArgument for bad input, NotFound, AlreadyExists, FailedPrecondition, ...) and a
// message naming what is wrong. Tokens are returned once, to the caller, and never logged.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "admin.grpc.pb.h"
#include "server/components.h"
#include "server/zones/zone_reload.h"

namespace spinel::server {

// Operations that belong to the composition root rather than to a component.
struct AdminHooks {
  // ZoneReloader::Reload of the running server; unset: ReloadZones is Unimplemented.
  std::function<absl::StatusOr<ZoneChanges>()> reload_zones;
};

class AdminServiceImpl;

// Builds the admin service and serves it on `socket_path` (an existing stale socket file is
// replaced; the socket is created mode 0600). The returned server must be shut down before
// `components` go away.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    ServerComponents& components, AdminHooks hooks, const std::string& socket_path,
    std::unique_ptr<grpc::Service>* service_out);

}  // namespace spinel::server
