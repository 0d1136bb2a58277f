// spinel-example-tool-runner: a tool-execution-zone workload. Gets its X509-SVID from the
// Workload API and runs tool calls requested over mTLS on loopback, trusting exactly the
// bundles the Workload API gave it. It is the guard of its tools: for every request it asks
// the agent's Authorization API whether the caller (proved by the mTLS peer's X509-SVID) may
// invoke the tool, and runs it only on ALLOW. Protocol: "invoke <tool> [k=v ...]
// [approval=<id>]" -> one JSON line {"verdict","subject","rule","reason","approval_id",
// "approval_expires_at","result"}.
#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "examples/authorize_client.h"
#include "examples/example_app.h"

namespace ex = spinel::examples;
using nlohmann::json;
using spinel::common::StrCat;

namespace {

std::string HandleInvoke(ex::AuthorizeClient& authorizer, const ex::MtlsConnection& peer,
                         const std::string& line) {
  auto request = ex::ParseToolRequest(line);
  if (!request.ok()) return json{{"error", request.status().message()}}.dump();
  auto decision = authorizer.AuthorizeTool(peer.peer_chain(), *request);
  if (!decision.ok()) {
    ex::Say("tool-runner", "error", StrCat("authorize: ", decision.status().ToString()));
    return json{{"error", decision.status().ToString()}}.dump();
  }
  const std::string verdict = spinel::v1::AuthorizeResponse::Verdict_Name(decision->verdict());
  ex::Say("tool-runner", "invoke", StrCat(request->tool, " for ", peer.peer_id(), ": ", verdict));
  json reply = {{"verdict", verdict},
                {"subject", decision->subject()},
                {"zone", decision->zone()},
                {"rule", decision->rule()},
                {"reason", decision->reason()},
                {"approval_id", decision->approval_id()},
                {"approval_expires_at", decision->approval_expires_at()}};
  if (decision->verdict() == spinel::v1::AuthorizeResponse::ALLOW) {
    reply["result"] = StrCat("ran ", request->tool);
  }
  return reply.dump();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spinel-example-tool-runner: runs tool calls over SPIFFE mTLS, guarded by policy"};
  ex::ServerOptions options;
  ex::AddServerOptions(app, &options);
  CLI11_PARSE(app, argc, argv);
  return ex::RunServer("tool-runner", options, [](ex::LiveIdentity& identity) -> ex::Handler {
    auto authorizer = std::make_shared<ex::AuthorizeClient>(identity.client().channel());
    return [authorizer](const ex::MtlsConnection& peer, const std::string& request) {
      return HandleInvoke(*authorizer, peer, request);
    };
  });
}
