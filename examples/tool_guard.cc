#include "examples/tool_guard.h"

#include "common/strings.h"
#include "examples/authorize_client.h"
#include "examples/example_app.h"
#include "examples/tool_catalog.h"

namespace spinel::examples {
namespace {

using common::StrCat;
using nlohmann::json;
using spinel::v1::AuthorizeResponse;

constexpr char kRole[] = "tool-runner";
constexpr char kMetaApproval[] = "spinel/approval_id";

absl::Status CheckPeer(const std::string& proved, const std::string& peer) {
  if (proved == peer) return absl::OkStatus();
  return absl::PermissionDeniedError(
      StrCat("the WIT-SVID names ", proved, " but the mTLS peer is ", peer));
}

json ErrorResult(const std::string& text) {
  return {{"content", json::array({{{"type", "text"}, {"text", text}}})}, {"isError", true}};
}

std::string ApprovalId(const json& params, const json& arguments) {
  if (arguments.contains("approval_id") && arguments["approval_id"].is_string()) {
    return arguments["approval_id"];
  }
  const json meta = params.value("_meta", json::object());
  return meta.is_object() ? meta.value(kMetaApproval, "") : "";
}

std::map<std::string, std::string> ContextOf(const json& arguments) {
  std::map<std::string, std::string> context;
  for (const auto& [key, value] : arguments.items()) {
    if (key == "approval_id") continue;
    if (value.is_string()) context[key] = value.get<std::string>();
    if (value.is_number() || value.is_boolean()) context[key] = value.dump();
  }
  return context;
}

std::string OnBehalfOf(const AuthorizeResponse& decision) {
  if (decision.user().empty()) return "on behalf of nobody";
  std::string chain;
  for (const std::string& actor : decision.actor_chain()) {
    common::StrAppend(&chain, chain.empty() ? "" : " <- ", actor);
  }
  return StrCat("for ", decision.user(), " via ", chain);
}

json Verdict(const AuthorizeResponse& decision, const McpTool& tool, const json& arguments) {
  const std::string verdict = AuthorizeResponse::Verdict_Name(decision.verdict());
  json structured = {{"verdict", verdict},      {"subject", decision.subject()},
                     {"rule", decision.rule()}, {"reason", decision.reason()},
                     {"user", decision.user()}, {"actor_chain", decision.actor_chain()}};
  if (!decision.approval_id().empty()) {
    structured["approval_id"] = decision.approval_id();
    structured["approval_expires_at"] = decision.approval_expires_at();
  }
  const bool allowed = decision.verdict() == AuthorizeResponse::ALLOW;
  std::string text = StrCat(verdict, ": ", decision.reason());
  if (allowed) {
    structured["result"] = RunTool(tool, arguments);
    text = structured["result"];
  }
  return {{"content", json::array({{{"type", "text"}, {"text", text}}})},
          {"structuredContent", structured},
          {"isError", !allowed}};
}

class ToolGuard {
 public:
  ToolGuard(std::shared_ptr<grpc::Channel> socket, std::string target_uri, std::string own_id)
      : client_(std::move(socket)),
        target_uri_(std::move(target_uri)),
        own_id_(std::move(own_id)) {}

  absl::Status Prove(const McpRequest& request) {
    auto proved = client_.Verify(target_uri_, request.proof_headers, own_id_);
    if (!proved.ok()) return proved.status();
    return CheckPeer(proved->spiffe_id(), request.peer_id);
  }

  absl::StatusOr<json> CallTool(const McpRequest& request) {
    const std::string name = request.params.value("name", "");
    json arguments = request.params.value("arguments", json::object());
    if (!arguments.is_object()) arguments = json::object();
    ProofAuthorizeRequest call{target_uri_,
                               request.proof_headers,
                               own_id_,
                               StrCat("tool:", kToolServerName, "/", name),
                               "invoke",
                               ContextOf(arguments),
                               ApprovalId(request.params, arguments)};
    auto decision = client_.Authorize(call);
    if (!decision.ok()) return decision.status();
    if (absl::Status peer = CheckPeer(decision->subject(), request.peer_id); !peer.ok())
      return peer;
    Say(kRole, "invoke",
        StrCat(name, " ", OnBehalfOf(*decision), ": ",
               AuthorizeResponse::Verdict_Name(decision->verdict())));
    const McpTool* tool = FindTool(name);
    if (tool == nullptr) return ErrorResult(StrCat("unknown tool ", common::Quote(name)));
    if (absl::Status args = CheckArguments(*tool, arguments); !args.ok()) {
      return ErrorResult(std::string(args.message()));
    }
    return Verdict(*decision, *tool, arguments);
  }

 private:
  AuthorizeClient client_;
  const std::string target_uri_;
  const std::string own_id_;
};

}  // namespace

McpHandlers MakeToolGuard(std::shared_ptr<grpc::Channel> workload_socket,
                          const std::string& target_uri, const std::string& own_id) {
  auto guard = std::make_shared<ToolGuard>(std::move(workload_socket), target_uri, own_id);
  return {[guard](const McpRequest& request) { return guard->Prove(request); },
          [guard](const McpRequest& request) { return guard->CallTool(request); }};
}

}  // namespace spinel::examples
