// spinel-agent: the node agent. `run` attests the node and serves the SPIFFE Workload API;
// `api ...` and `healthcheck` are Workload API clients for operators and scripts.
#include <CLI/CLI.hpp>

#include "agent/cli/api_commands.h"
#include "agent/run_command.h"

int main(int argc, char** argv) {
  CLI::App app{"spinel-agent: SPIFFE node agent for trust-zoned AI workloads"};
  app.require_subcommand(1);
  std::string config_path;
  std::string join_token;
  CLI::App* run = app.add_subcommand("run", "Run the agent");
  run->add_option("--config", config_path, "Agent configuration file (YAML)")->required();
  run->add_option("--join-token", join_token, "Join token for the first attestation");
  int exit_code = 0;
  run->callback([&] { exit_code = spinel::agent::RunAgent(config_path, join_token); });
  spinel::agent::cli::RegisterApiCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
