#include "agent/cli/workload_client.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace spinel::agent::cli {
namespace {

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    default:
      return "ERROR";
  }
}

}  // namespace

std::string ResolveSocket(const std::string& flag) {
  // "unix://" + a relative path would name a host, not a file: make --socket absolute.
  if (!flag.empty()) return std::filesystem::absolute(flag).lexically_normal().string();
  const char* env = std::getenv("SPIFFE_ENDPOINT_SOCKET");
  if (env != nullptr) {
    std::string value = env;
    if (value.rfind("unix://", 0) == 0) return value.substr(7);
    return value;
  }
  return "/run/spinel/agent/workload.sock";
}

std::unique_ptr<::SpiffeWorkloadAPI::Stub> ConnectWorkloadApi(const std::string& socket_path) {
  return ::SpiffeWorkloadAPI::NewStub(
      grpc::CreateChannel("unix://" + socket_path, grpc::InsecureChannelCredentials()));
}

std::unique_ptr<grpc::ClientContext> WorkloadContext(std::chrono::seconds deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("workload.spiffe.io", "true");
  if (deadline.count() > 0) context->set_deadline(std::chrono::system_clock::now() + deadline);
  return context;
}

int PrintRpcError(const grpc::Status& status) {
  std::fprintf(stderr, "error: %s: %s\n", CodeName(status.error_code()),
               status.error_message().c_str());
  return 1;
}

}  // namespace spinel::agent::cli
