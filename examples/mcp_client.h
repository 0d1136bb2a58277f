// An MCP client (Model Context Protocol, Streamable HTTP transport, protocol 2025-06-18) over
// SPIFFE mTLS: each JSON-RPC message is one POST to https://<address>/mcp on a new mTLS
// connection (the server is authenticated by its X509-SVID), with "Accept: application/json,
// text/event-stream", the Mcp-Session-Id the server issued at initialize, MCP-Protocol-Version,
// and the WIMSE proof headers the ProofSource makes for that request (examples/wit_credentials.h).
//
// Errors of Call(): PermissionDenied when the TLS handshake is refused; Unauthenticated
// "HTTP 400: <message>" when the server refused the request's proof (wimse.md §3.5);
// Unknown for a JSON-RPC error answer or another HTTP status; Unavailable for I/O errors.
//
// Thread-safety: one thread at a time.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/workload_proof_request.h"
#include "examples/mtls.h"

namespace spinel::examples {

inline constexpr char kMcpProtocolVersion[] = "2025-06-18";

// The proof headers for one request to `target_uri`, whose server proved `peer_id` in the
// handshake (e.g. the audience of a delegation token).
using ProofSource = std::function<absl::StatusOr<std::vector<common::HttpHeader>>(
    const std::string& target_uri, const std::string& peer_id)>;

class McpClient {
 public:
  // `address`: "127.0.0.1:<port>" of the MCP server.
  McpClient(IdentitySource identity, std::string address, ProofSource proof);

  const std::string& target_uri() const { return target_uri_; }
  // The server's SPIFFE ID, once a request went through.
  const std::string& peer_id() const { return peer_id_; }

  // initialize, then notifications/initialized; returns the InitializeResult.
  absl::StatusOr<nlohmann::json> Initialize(const std::string& client_name);
  // A JSON-RPC request; returns its "result".
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const nlohmann::json& params);

 private:
  struct Reply {
    int status = 0;
    std::string session_id;
    nlohmann::json body;
  };
  absl::StatusOr<Reply> Post(const nlohmann::json& message);

  IdentitySource identity_;
  std::string address_;
  std::string target_uri_;
  ProofSource proof_;
  std::string peer_id_;
  std::string session_id_;
  int next_id_ = 1;
};

}  // namespace spinel::examples
