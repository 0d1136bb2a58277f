// spinel-example-tool-runner: a tool-execution-zone workload and an MCP server (Streamable
// HTTP over SPIFFE mTLS, examples/mcp_server.h). Gets its X509-SVID from the Workload API and
// serves https://127.0.0.1:<port>/mcp, trusting exactly the bundles the Workload API gave it
// (a training workload is refused in the handshake). It is the guard of its tools
// (examples/tool_catalog.h): every request must carry a WIT-SVID and a Workload Proof Token
// (and, when the caller acts for a user, a delegation token bound by the proof); the agent
// proves each request and decides each tool call as resource "tool:tool-runner/<tool>"
// (examples/tool_guard.h). Tools run only on ALLOW.
#include <CLI/CLI.hpp>

#include "examples/example_app.h"
#include "examples/mcp_server.h"
#include "examples/tool_catalog.h"
#include "examples/tool_guard.h"

namespace ex = spinel::examples;

int main(int argc, char** argv) {
  CLI::App app{
      "spinel-example-tool-runner: an MCP tool server over SPIFFE mTLS, guarded by policy"};
  ex::ServerOptions options;
  ex::AddServerOptions(app, &options);
  CLI11_PARSE(app, argc, argv);
  ex::InstallStopHandlers();
  std::unique_ptr<ex::LiveIdentity> identity = ex::StartIdentity("tool-runner", options.example);
  if (!identity) return ex::kExitError;
  const std::string own_id = identity->Current()->svid.id.ToString();
  return ex::ServeMcp("tool-runner", *identity, options, ex::ToolRunnerTools(),
                      [&](const std::string& target_uri) {
                        return ex::MakeToolGuard(identity->client().channel(), target_uri, own_id);
                      });
}
