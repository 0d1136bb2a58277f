// `spinel-server run --config FILE`: loads the config, starts the server and serves until
// SIGINT or SIGTERM; SIGHUP reloads the zone files (an invalid change is logged and refused).
#pragma once

#include <string>

namespace spinel::server {

// Returns the process exit code.
int RunServer(const std::string& config_path);

}  // namespace spinel::server
