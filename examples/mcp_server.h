// An MCP server (Model Context Protocol, Streamable HTTP transport; protocol versions
// 2025-06-18 and 2025-03-26) over SPIFFE mTLS with cpp-httplib: HTTPS on 127.0.0.1 presenting
// the workload's live X509-SVID and requiring a client X509-SVID verified against the bundles
// it trusts (examples/mtls.h SetUpServerContext; a workload of a non-peered zone is refused in
// the handshake).
//
// One endpoint, /mcp:
//   POST   one JSON-RPC 2.0 message. The client must accept application/json and
//          text/event-stream (else 406); answers are application/json. `initialize` issues an
//          Mcp-Session-Id (bound to the mTLS peer) that every later request must carry (400
//          without it, 404 when unknown or another peer's). Methods: initialize, ping,
//          tools/list, tools/call; notifications (e.g. notifications/initialized) -> 202.
//          Every message, notifications included, is first proved by the handlers (WIMSE
//          proof headers; see McpHandlers): a refused proof is HTTP 400 with a JSON-RPC error.
//   GET    405 (no server-initiated SSE stream); DELETE ends the session.
//
// Thread-safety: cpp-httplib serves connections on a thread pool; handlers must be thread-safe.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/workload_proof_request.h"
#include "examples/example_app.h"

namespace spinel::examples {

struct McpTool {
  std::string name;  // e.g. "deploy.production"
  std::string description;
  nlohmann::json input_schema;  // a JSON Schema object
};

// One JSON-RPC message as the guard sees it.
struct McpRequest {
  std::string peer_id;  // the verified mTLS peer's SPIFFE ID
  // The WIMSE headers as received, repeated ones included: Workload-Identity-Token,
  // Workload-Proof-Token, Authorization.
  std::vector<common::HttpHeader> proof_headers;
  std::string method;
  nlohmann::json params;  // an object
};

// Errors refuse the request: InvalidArgument, Unauthenticated, AlreadyExists (a replayed WPT)
// and PermissionDenied are the caller's proof failing -> HTTP 400; others -> HTTP 500.
struct McpHandlers {
  // Proves the caller of any message but tools/call.
  std::function<absl::Status(const McpRequest&)> prove;
  // tools/call: proves, authorizes and runs; the CallToolResult (a policy refusal is a result
  // with isError true).
  std::function<absl::StatusOr<nlohmann::json>(const McpRequest&)> call_tool;
};

// Serves until SIGTERM/SIGINT (InstallStopHandlers) on 127.0.0.1:options.port (writing the
// port to options.port_file); `make_handlers` gets the target URI https://127.0.0.1:<port>/mcp
// built from this configuration (never from Host). Returns the exit code.
int ServeMcp(const std::string& role, LiveIdentity& identity, const ServerOptions& options,
             const std::vector<McpTool>& tools,
             const std::function<McpHandlers(const std::string& target_uri)>& make_handlers);

}  // namespace spinel::examples
