// The tool runner's guard: asks the agent's Authorization API (spinel.v1.Authorization, served
// on the Workload API socket) whether the peer that called over mTLS — proved by its verified
// X509-SVID chain — may invoke a tool, with the request context and an optional approval.
// The answer is the agent's decision on the zone policy; the agent audits it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "authorization.grpc.pb.h"
#include "common/certificate.h"

namespace spinel::examples {

struct ToolRequest {
  std::string tool;                            // e.g. "deploy.production"
  std::map<std::string, std::string> context;  // e.g. environment=production
  std::string approval_id;                     // "" when none
};

// Parses "invoke <tool> [key=value ...] [approval=<id>]". InvalidArgument naming the problem.
absl::StatusOr<ToolRequest> ParseToolRequest(const std::string& line);
// The request line for `request` (the inverse of ParseToolRequest).
std::string FormatToolRequest(const ToolRequest& request);

class AuthorizeClient {
 public:
  explicit AuthorizeClient(std::shared_ptr<grpc::Channel> workload_socket);

  // Authorize(subject = `peer_chain`, resource "tool:<tool>", action "invoke"). A policy answer
  // (ALLOW, DENY, APPROVAL_REQUIRED) is OK; errors are the agent's gRPC status.
  absl::StatusOr<spinel::v1::AuthorizeResponse> AuthorizeTool(
      const std::vector<common::Certificate>& peer_chain, const ToolRequest& request);

 private:
  std::unique_ptr<spinel::v1::Authorization::Stub> stub_;
};

}  // namespace spinel::examples
