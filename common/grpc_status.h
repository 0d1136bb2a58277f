// The one place absl::Status becomes grpc::Status (and back), at the edge of every gRPC
// service and client. Header-only so that spinel_common itself does not depend on gRPC; only
// code that links gRPC includes it.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace spinel::common {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

inline absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

}  // namespace spinel::common
