// The tool runner's guard: the MCP handlers (examples/mcp_server.h) that prove every request
// and authorize every tool call at the agent (examples/authorize_client.h), forwarding the
// request's WIMSE proof headers with the target URI from the runner's own configuration.
//
//   any method but tools/call  VerifyWorkloadProof;
//   tools/call                 Authorize(workload_proof, resource "tool:tool-runner/<tool>",
//                              action "invoke", context = the call's scalar arguments, approval
//                              id = arguments.approval_id or _meta["spinel/approval_id"],
//                              audience = the runner's own SPIFFE ID: the "aud" a bound
//                              delegation token must carry).
// In both cases the proved WIT-SVID subject must be the mTLS peer (PermissionDenied otherwise).
// ALLOW runs the tool; DENY and APPROVAL_REQUIRED are a CallToolResult with isError true and
// the verdict, reason and approval id in its content and structuredContent.
//
// Thread-safety: the handlers may run on several threads at once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "examples/mcp_server.h"

namespace spinel::examples {

inline constexpr char kToolServerName[] = "tool-runner";

// `own_id`: the tool runner's SPIFFE ID.
McpHandlers MakeToolGuard(std::shared_ptr<grpc::Channel> workload_socket,
                          const std::string& target_uri, const std::string& own_id);

}  // namespace spinel::examples
