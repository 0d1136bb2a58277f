#include "examples/mcp_client.h"

#include "common/status_macros.h"
#include "common/strings.h"
#include "examples/https_client.h"

namespace spinel::examples {
namespace {

using common::StrCat;
using nlohmann::json;

constexpr auto kTimeout = std::chrono::seconds(15);

std::string ErrorMessage(const json& body) {
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    return body["error"].value("message", body["error"].dump());
  }
  return body.dump();
}

}  // namespace

McpClient::McpClient(IdentitySource identity, std::string address, ProofSource proof)
    : identity_(std::move(identity)),
      address_(std::move(address)),
      target_uri_(StrCat("https://", address_, "/mcp")),
      proof_(std::move(proof)) {}

absl::StatusOr<McpClient::Reply> McpClient::Post(const json& message) {
  SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<MtlsConnection> connection,
                          DialMtls(address_, identity_(), kTimeout));
  peer_id_ = connection->peer_id();
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::HttpHeader> headers,
                          proof_(target_uri_, connection->peer_id()));
  headers.push_back({"Accept", "application/json, text/event-stream"});
  if (!session_id_.empty()) {
    headers.push_back({"Mcp-Session-Id", session_id_});
    headers.push_back({"MCP-Protocol-Version", kMcpProtocolVersion});
  }
  SPINEL_ASSIGN_OR_RETURN(HttpResponse response,
                          PostJson(*connection, address_, "/mcp", headers, message.dump()));
  Reply reply;
  reply.status = response.status;
  reply.session_id = response.headers["mcp-session-id"];
  reply.body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (response.status == 400) {
    return absl::UnauthenticatedError(StrCat("HTTP 400: ", ErrorMessage(reply.body)));
  }
  if (response.status != 200 && response.status != 202) {
    return absl::UnknownError(StrCat("HTTP ", response.status, ": ", ErrorMessage(reply.body)));
  }
  return reply;
}

absl::StatusOr<json> McpClient::Call(const std::string& method, const json& params) {
  json message = {{"jsonrpc", "2.0"}, {"id", next_id_++}, {"method", method}, {"params", params}};
  SPINEL_ASSIGN_OR_RETURN(Reply reply, Post(message));
  if (!reply.body.is_object() || !reply.body.contains("result")) {
    return absl::UnknownError(StrCat(method, ": ", ErrorMessage(reply.body)));
  }
  if (!reply.session_id.empty() && session_id_.empty()) session_id_ = reply.session_id;
  return reply.body["result"];
}

absl::StatusOr<json> McpClient::Initialize(const std::string& client_name) {
  json params = {{"protocolVersion", kMcpProtocolVersion},
                 {"capabilities", json::object()},
                 {"clientInfo", {{"name", client_name}, {"version", "1.0"}}}};
  SPINEL_ASSIGN_OR_RETURN(json result, Call("initialize", params));
  if (session_id_.empty()) return absl::UnknownError("the server issued no Mcp-Session-Id");
  json notification = {{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}};
  SPINEL_ASSIGN_OR_RETURN(Reply reply, Post(notification));
  if (reply.status != 202) {
    return absl::UnknownError(StrCat("notifications/initialized: HTTP ", reply.status));
  }
  return result;
}

}  // namespace spinel::examples
