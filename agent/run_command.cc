#include "agent/run_command.h"

#include <csignal>
#include <cstdio>

#include "agent/agent.h"
#include "common/log.h"

namespace spinel::agent {

int RunAgent(const std::string& config_path, const std::string& join_token) {
  absl::StatusOr<AgentConfig> config = LoadAgentConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "spinel-agent: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (!join_token.empty()) config->join_token = join_token;
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  absl::StatusOr<std::unique_ptr<Agent>> agent =
      Agent::Start(*std::move(config), common::SystemClock::Get());
  if (!agent.ok()) {
    LOG_ERROR("spinel-agent failed to start", {{"error", std::string(agent.status().message())}});
    return 1;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  LOG_INFO("shutting down", {{"signal", std::to_string(signal)}});
  (*agent)->Stop();
  return 0;
}

}  // namespace spinel::agent
