// The operator subcommands of spinel-server (everything except `run`): each talks to the
// admin API on the server's Unix socket (--socket). Listings take --output json; human output
// is aligned tables. Exit codes: 0 success, 1 the server refused or failed (the gRPC status
// and message are printed), 2 bad usage or bad input (nothing was sent).
#pragma once

#include <CLI/CLI.hpp>

namespace spinel::server::cli {

// Adds the subcommands to `app`; each sets `*exit_code` when it runs.
void RegisterAdminCommands(CLI::App& app, int* exit_code);

}  // namespace spinel::server::cli
