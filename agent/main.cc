// spinel-agent: the node agent. `run` attests the node and serves the SPIFFE Workload API;
// `api ...` and `healthcheck` are Workload API clients for operators and scripts.
//
// Exit codes (the same for every subcommand; see agent/cli/api_commands.h, and the server's
// server/cli/admin_client.h which uses the same numbers):
//   0  success, and --help
//   1  the agent refused or failed the request, could not be reached, or failed to start
//   2  bad usage: unknown command or flag, missing or bad flag value (printed as
//      "error: <problem>" on stderr before anything is done), or an unreadable or invalid
//      config file for `run` (the message names the file, line and key)
#include <CLI/CLI.hpp>

#include "agent/cli/api_commands.h"
#include "agent/cli/authorize_command.h"
#include "agent/cli/token_commands.h"
#include "agent/cli/wit_commands.h"
#include "agent/run_command.h"

namespace {

constexpr int kExitOk = 0;
constexpr int kExitUsage = 2;

// CLI11's own exit codes (105, 106, 109, ...) are folded into kExitUsage; --help stays 0.
int ExitForParseError(CLI::App& app, const CLI::ParseError& error) {
  const int cli11_code = app.exit(error);  // prints help, or the message and a hint
  return cli11_code == static_cast<int>(CLI::ExitCodes::Success) ? kExitOk : kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spinel-agent: SPIFFE node agent for trust-zoned AI workloads"};
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return std::string("error: ") + error.what() + "\nRun with --help for more information.\n";
  });
  std::string config_path;
  std::string join_token;
  CLI::App* run = app.add_subcommand("run", "Run the agent");
  run->add_option("--config", config_path, "Agent configuration file (YAML)")->required();
  run->add_option("--join-token", join_token, "Join token for the first attestation");
  int exit_code = 0;
  run->callback([&] { exit_code = spinel::agent::RunAgent(config_path, join_token); });
  spinel::agent::cli::RegisterApiCommands(app, &exit_code);
  spinel::agent::cli::RegisterAuthorizeCommand(app, &exit_code);
  spinel::agent::cli::RegisterWptCommands(app, &exit_code);
  spinel::agent::cli::RegisterTokenCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return ExitForParseError(app, e);
  }
  return exit_code;
}
