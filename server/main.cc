// spinel-server: the SPIFFE issuer and trust-zone manager. `run` serves; every other
// subcommand is an operator command that talks to a running server's admin socket.
#include <CLI/CLI.hpp>

#include "server/cli/admin_commands.h"
#include "server/run_command.h"

int main(int argc, char** argv) {
  CLI::App app{"spinel-server: SPIFFE workload identity issuer and trust-zone manager"};
  app.require_subcommand(1);
  std::string config_path;
  CLI::App* run = app.add_subcommand("run", "Run the server");
  run->add_option("--config", config_path, "Server configuration file (YAML)")->required();
  int exit_code = 0;
  run->callback([&] { exit_code = spinel::server::RunServer(config_path); });
  spinel::server::cli::RegisterAdminCommands(app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}
