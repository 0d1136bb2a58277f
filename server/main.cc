// spinel-server: the SPIFFE issuer and trust-zone manager. `run` serves; every other
// subcommand is an operator command that talks to a running server's admin socket.
//
// Exit codes (the same for every subcommand; see server/cli/admin_client.h):
//   0  success, and --help
//   1  the server refused or failed the request, could not be reached, or failed to start
//   2  bad usage: unknown command or flag, missing or bad flag value (printed as
//      "error: <problem>" on stderr before anything is done), or an unreadable or invalid
//      config file for `run` (the message names the file, line and key)
#include <CLI/CLI.hpp>

#include "server/cli/admin_client.h"
#include "server/cli/admin_commands.h"
#include "server/run_command.h"

namespace {

// CLI11's own exit codes (105, 106, 109, ...) are folded into kExitUsage; --help stays 0.
int ExitForParseError(CLI::App& app, const CLI::ParseError& error) {
  const int cli11_code = app.exit(error);  // prints help, or the message and a hint
  return cli11_code == static_cast<int>(CLI::ExitCodes::Success) ? spinel::server::cli::kExitOk
                                                                 : spinel::server::cli::kExitUsage;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spinel-server: SPIFFE workload identity issuer and trust-zone manager"};
  app.require_subcommand(1);
  app.failure_message([](const CLI::App*, const CLI::Error& error) {
    return std::string("error: ") + error.what() + "\nRun with --help for more information.\n";
  });
  std::string config_path;
  CLI::App* run = app.add_subcommand("run", "Run the server");
  run->add_option("--config", config_path, "Server configuration file (YAML)")->required();
  int exit_code = 0;
  run->callback([&] { exit_code = spinel::server::RunServer(config_path); });
  spinel::server::cli::RegisterAdminCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return ExitForParseError(app, e);
  }
  return exit_code;
}
