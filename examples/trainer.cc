// spinel-example-trainer: a training-zone workload. Gets its X509-SVID from the Workload API,
// prints it, and (with --tool-runner) tries to call a tool runner over mTLS. Training peers with
// no zone, so it holds no bundle for the tool-execution zone and the tool runner holds none for
// training: the TLS handshake fails (exit 5), with no policy engine in the path.
#include <CLI/CLI.hpp>

#include "common/strings.h"
#include "examples/example_app.h"

namespace ex = spinel::examples;

int main(int argc, char** argv) {
  CLI::App app{"spinel-example-trainer: a training job with a SPIFFE identity"};
  ex::ExampleOptions options;
  std::string tool_runner;
  std::string tool = "notebook.run";
  ex::AddExampleOptions(app, &options);
  app.add_option("--tool-runner", tool_runner, "host:port of a tool runner to try to call");
  app.add_option("--tool", tool, "Tool to ask for");
  CLI11_PARSE(app, argc, argv);
  ex::InstallStopHandlers();
  auto identity = ex::StartIdentity("trainer", options);
  if (!identity) return ex::kExitError;
  int exit_code = 0;
  if (!tool_runner.empty()) {
    // The tool runner speaks MCP over HTTPS; the handshake is refused before any request.
    auto reply = ex::CallPeer("trainer", "tool-runner", *identity, tool_runner,
                              spinel::common::StrCat("POST /mcp HTTP/1.1 (tools/call ", tool, ")"));
    if (reply.ok()) {
      ex::Say("trainer", "reply", *reply);
    } else {
      exit_code = reply.status().code() == absl::StatusCode::kPermissionDenied ? ex::kExitRefused
                                                                               : ex::kExitError;
    }
  }
  return ex::FinishWatching("trainer", options, *identity, exit_code);
}
