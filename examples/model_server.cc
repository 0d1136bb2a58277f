// spinel-example-model-server: an inference-zone workload. Gets its X509-SVID from the Workload
// API, prints it, and as an mTLS client with that SVID:
//   --retriever ADDR               asks the retriever for context (inference peers retrieval:
//                                  the handshake succeeds);
//   --tool-runner ADDR --invoke T  asks the tool runner to invoke tool T with --context k=v
//                                  (and --approval-id ID); prints the policy verdict and exits
//                                  0 ALLOW, 3 DENY, 4 APPROVAL_REQUIRED.
// With --watch it then stays and prints live rotations.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/rfc3339.h"
#include "common/strings.h"
#include "examples/authorize_client.h"
#include "examples/example_app.h"

namespace ex = spinel::examples;
using nlohmann::json;
using spinel::common::StrCat;

namespace {

constexpr char kRole[] = "model-server";

int ExitCodeFor(const std::string& verdict) {
  if (verdict == "ALLOW") return 0;
  if (verdict == "DENY") return ex::kExitDeny;
  if (verdict == "APPROVAL_REQUIRED") return ex::kExitApprovalRequired;
  return ex::kExitError;
}

int InvokeTool(ex::LiveIdentity& identity, const std::string& address,
               const ex::ToolRequest& request) {
  auto reply =
      ex::CallPeer(kRole, "tool-runner", identity, address, ex::FormatToolRequest(request));
  if (!reply.ok()) {
    return reply.status().code() == absl::StatusCode::kPermissionDenied ? ex::kExitRefused
                                                                        : ex::kExitError;
  }
  json answer = json::parse(*reply, nullptr, /*allow_exceptions=*/false);
  if (!answer.is_object() || !answer.contains("verdict")) {
    ex::Say(kRole, "error", StrCat("tool runner answered: ", *reply));
    return ex::kExitError;
  }
  const std::string verdict = answer["verdict"];
  std::string rule = answer.value("rule", "");
  ex::Say(kRole, "verdict", StrCat(verdict, rule.empty() ? "" : StrCat(" (rule ", rule, ")")));
  ex::Say(kRole, "reason", answer.value("reason", ""));
  if (verdict == "APPROVAL_REQUIRED") {
    const int64_t expires = answer.value("approval_expires_at", int64_t{0});
    ex::Say(kRole, "approval",
            StrCat(answer.value("approval_id", ""), " (pending; expires ",
                   spinel::common::FormatRfc3339(expires), ")"));
  }
  if (answer.contains("result")) ex::Say(kRole, "result", answer["result"].get<std::string>());
  return ExitCodeFor(verdict);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spinel-example-model-server: a model server calling retrieval and tools over mTLS"};
  ex::ExampleOptions options;
  std::string retriever, tool_runner, query = "refund policy";
  ex::ToolRequest request;
  std::vector<std::string> context;
  ex::AddExampleOptions(app, &options);
  app.add_option("--retriever", retriever, "host:port of the retriever to query");
  app.add_option("--query", query, "Text to retrieve context for");
  app.add_option("--tool-runner", tool_runner, "host:port of the tool runner");
  app.add_option("--invoke", request.tool, "Tool to invoke through the tool runner");
  app.add_option("--context", context, "Request context key=value (repeatable)");
  app.add_option("--approval-id", request.approval_id, "Approval granted for this call");
  CLI11_PARSE(app, argc, argv);
  for (const std::string& kv : context) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      ex::Say(kRole, "error", StrCat("--context: expected key=value, got ", kv));
      return 2;
    }
    request.context[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  ex::InstallStopHandlers();
  auto identity = ex::StartIdentity(kRole, options);
  if (!identity) return ex::kExitError;
  int exit_code = 0;
  if (!retriever.empty()) {
    auto reply = ex::CallPeer(kRole, "retriever", *identity, retriever, "query " + query);
    if (reply.ok())
      ex::Say(kRole, "context", *reply);
    else
      exit_code = reply.status().code() == absl::StatusCode::kPermissionDenied ? ex::kExitRefused
                                                                               : ex::kExitError;
  }
  if (exit_code == 0 && !tool_runner.empty() && !request.tool.empty()) {
    exit_code = InvokeTool(*identity, tool_runner, request);
  }
  return ex::FinishWatching(kRole, options, *identity, exit_code);
}
