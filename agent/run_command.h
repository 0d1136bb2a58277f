// `spinel-agent run --config FILE [--join-token TOKEN]`: starts the agent and serves until
// SIGINT or SIGTERM. Returns the process exit code (2 for a bad config, 1 when it cannot start).
#pragma once

#include <string>

namespace spinel::agent {

int RunAgent(const std::string& config_path, const std::string& join_token);

}  // namespace spinel::agent
