#include "examples/mcp_server.h"

#include <httplib.h>

#include <atomic>
#include <map>
#include <thread>

#include "common/file_util.h"
#include "common/mutex.h"
#include "common/random.h"
#include "common/strings.h"

namespace spinel::examples {
namespace {

using common::StrCat;
using nlohmann::json;

const std::vector<std::string> kProtocolVersions = {"2025-06-18", "2025-03-26"};
constexpr int kParseError = -32700, kInvalidRequest = -32600, kMethodNotFound = -32601;
constexpr int kProofRefused = -32001;

json RpcError(const json& id, int code, const std::string& message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", message}}}};
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

bool IsProofFailure(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kPermissionDenied:
      return true;
    default:
      return false;
  }
}

std::vector<common::HttpHeader> ProofHeaders(const httplib::Request& req) {
  std::vector<common::HttpHeader> out;
  for (std::string_view name : {common::kWorkloadIdentityTokenHeader,
                                common::kWorkloadProofTokenHeader, common::kAuthorizationHeader}) {
    const std::string key(name);
    for (size_t i = 0; i < req.get_header_value_count(key); ++i) {
      out.push_back({key, req.get_header_value(key, i)});
    }
  }
  return out;
}

bool AcceptsJsonAndStream(const httplib::Request& req) {
  const std::string accept = req.get_header_value("Accept");
  return accept.find("application/json") != std::string::npos &&
         accept.find("text/event-stream") != std::string::npos;
}

// The state of one endpoint: tools, handlers and the sessions it issued.
class McpEndpoint {
 public:
  McpEndpoint(std::string role, std::vector<McpTool> tools, McpHandlers handlers)
      : role_(std::move(role)), tools_(std::move(tools)), handlers_(std::move(handlers)) {}

  void Post(const httplib::Request& req, httplib::Response& res);
  void Delete(const httplib::Request& req, httplib::Response& res);

 private:
  // False (with the answer written) when the request is not part of a session of its peer.
  bool CheckSession(const httplib::Request& req, const std::string& peer, const json& id,
                    httplib::Response& res);
  void Dispatch(const McpRequest& request, const json& id, httplib::Response& res);
  json Initialize(const json& params, const std::string& peer, httplib::Response& res);

  const std::string role_;
  const std::vector<McpTool> tools_;
  const McpHandlers handlers_;
  common::Mutex mu_;
  std::map<std::string, std::string> sessions_ ABSL_GUARDED_BY(mu_);  // id -> peer SPIFFE ID
};

bool McpEndpoint::CheckSession(const httplib::Request& req, const std::string& peer, const json& id,
                               httplib::Response& res) {
  const std::string session = req.get_header_value("Mcp-Session-Id");
  if (session.empty()) {
    Reply(res, 400, RpcError(id, kInvalidRequest, "Bad Request: no Mcp-Session-Id"));
    return false;
  }
  common::MutexLock lock(mu_);
  auto found = sessions_.find(session);
  if (found == sessions_.end() || found->second != peer) {
    Reply(res, 404, RpcError(id, kInvalidRequest, "session not found"));
    return false;
  }
  return true;
}

json McpEndpoint::Initialize(const json& params, const std::string& peer, httplib::Response& res) {
  std::string version = params.value("protocolVersion", "");
  if (std::find(kProtocolVersions.begin(), kProtocolVersions.end(), version) ==
      kProtocolVersions.end()) {
    version = kProtocolVersions.front();
  }
  absl::StatusOr<std::string> session = common::RandomHex(16);
  if (session.ok()) {
    common::MutexLock lock(mu_);
    sessions_[*session] = peer;
    res.set_header("Mcp-Session-Id", *session);
  }
  return {{"protocolVersion", version},
          {"capabilities", {{"tools", json::object()}}},
          {"serverInfo", {{"name", role_}, {"version", "1.0"}}}};
}

void McpEndpoint::Dispatch(const McpRequest& request, const json& id, httplib::Response& res) {
  const bool is_call = request.method == "tools/call";
  absl::StatusOr<json> result = json::object();
  if (is_call) {
    result = handlers_.call_tool(request);
  } else if (absl::Status proved = handlers_.prove(request); !proved.ok()) {
    result = proved;
  }
  if (!result.ok()) {
    Say(role_, "refused",
        StrCat(request.method, " from ", request.peer_id, ": ", result.status().message()));
    Reply(res, IsProofFailure(result.status()) ? 400 : 500,
          RpcError(id, kProofRefused, std::string(result.status().message())));
    return;
  }
  if (id.is_null()) {  // a notification
    res.status = 202;
    return;
  }
  json answer;
  if (request.method == "initialize") {
    answer = Initialize(request.params, request.peer_id, res);
  } else if (request.method == "tools/list") {
    answer = {{"tools", json::array()}};
    for (const McpTool& tool : tools_) {
      answer["tools"].push_back({{"name", tool.name},
                                 {"description", tool.description},
                                 {"inputSchema", tool.input_schema}});
    }
  } else if (request.method == "ping" || is_call) {
    answer = std::move(*result);
  } else {
    Reply(res, 200, RpcError(id, kMethodNotFound, StrCat("method not found: ", request.method)));
    return;
  }
  Reply(res, 200, {{"jsonrpc", "2.0"}, {"id", id}, {"result", answer}});
}

void McpEndpoint::Post(const httplib::Request& req, httplib::Response& res) {
  if (!AcceptsJsonAndStream(req)) {
    Reply(res, 406,
          RpcError(nullptr, kInvalidRequest,
                   "Not Acceptable: accept application/json and text/event-stream"));
    return;
  }
  json message = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) return Reply(res, 400, RpcError(nullptr, kParseError, "parse error"));
  if (!message.is_object() || message.value("jsonrpc", "") != "2.0" ||
      !message.contains("method") || !message["method"].is_string()) {
    return Reply(res, 400, RpcError(nullptr, kInvalidRequest, "not a JSON-RPC 2.0 message"));
  }
  const json id = message.contains("id") ? message["id"] : json();
  McpRequest request;
  request.peer_id = req.ssl != nullptr ? VerifiedPeerId(*req.ssl) : "";
  request.proof_headers = ProofHeaders(req);
  request.method = message["method"];
  request.params = message.contains("params") && message["params"].is_object() ? message["params"]
                                                                               : json::object();
  if (request.method != "initialize" && !CheckSession(req, request.peer_id, id, res)) return;
  Dispatch(request, id, res);
}

void McpEndpoint::Delete(const httplib::Request& req, httplib::Response& res) {
  common::MutexLock lock(mu_);
  res.status = sessions_.erase(req.get_header_value("Mcp-Session-Id")) == 1 ? 200 : 404;
}

}  // namespace

int ServeMcp(const std::string& role, LiveIdentity& identity, const ServerOptions& options,
             const std::vector<McpTool>& tools,
             const std::function<McpHandlers(const std::string& target_uri)>& make_handlers) {
  const IdentitySource current = [&identity] { return identity.Current(); };
  httplib::SSLServer server(
      [&current](SSL_CTX& ctx) { return SetUpServerContext(ctx, current).ok(); });
  const int port = options.port == 0
                       ? server.bind_to_any_port("127.0.0.1")
                       : (server.bind_to_port("127.0.0.1", options.port) ? options.port : -1);
  if (!server.is_valid() || port <= 0) {
    Say(role, "error", StrCat("cannot listen on 127.0.0.1:", options.port));
    return kExitError;
  }
  const std::string target_uri = StrCat("https://127.0.0.1:", port, "/mcp");
  McpEndpoint endpoint(role, tools, make_handlers(target_uri));
  server.Post("/mcp", [&](const httplib::Request& req, httplib::Response& res) {
    endpoint.Post(req, res);
  });
  server.Get("/mcp", [](const httplib::Request&, httplib::Response& res) {
    res.status = 405;
    res.set_header("Allow", "POST, DELETE");
  });
  server.Delete("/mcp", [&](const httplib::Request& req, httplib::Response& res) {
    endpoint.Delete(req, res);
  });
  if (!options.port_file.empty() &&
      !common::WriteFileAtomic(options.port_file, StrCat(port, "\n"), 0644).ok()) {
    Say(role, "error", StrCat("cannot write ", options.port_file));
    return kExitError;
  }
  Say(role, "listening", StrCat(target_uri, " (MCP over SPIFFE mTLS)"));
  std::atomic<bool> done{false};
  std::thread stopper([&server, &done] {
    while (!StopRequested() && !done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    server.stop();
  });
  server.listen_after_bind();
  done.store(true);
  stopper.join();
  return 0;
}

}  // namespace spinel::examples
