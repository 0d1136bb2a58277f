#include "server/run_command.h"

#include <csignal>
#include <cstdio>
#include <thread>

#include "common/log.h"
#include "server/config.h"
#include "server/server.h"

namespace spinel::server {

int RunServer(const std::string& config_path) {
  absl::StatusOr<ServerConfig> config = LoadServerConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "spinel-server: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  // Signals are taken by one thread with sigwait; every other thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // A full disk or a file size limit (RLIMIT_FSIZE) must fail the write with EFBIG, which the
  // datastore reports as UNAVAILABLE, instead of killing the server with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);

  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(*std::move(config), common::SystemClock::Get());
  if (!server.ok()) {
    LOG_ERROR("spinel-server failed to start", {{"error", std::string(server.status().message())}});
    return 1;
  }
  Server* running = server->get();
  std::thread signal_thread([running, signals] {
    while (true) {
      int signal = 0;
      if (sigwait(&signals, &signal) != 0) continue;
      if (signal == SIGHUP) {
        // ZoneReloader logs what changed; a refusal changes nothing.
        absl::StatusOr<ZoneChanges> reloaded = running->ReloadZones();
        if (!reloaded.ok()) {
          LOG_ERROR("zone reload (SIGHUP) refused; the old zones stay in force",
                    {{"error", std::string(reloaded.status().message())}});
        }
        continue;
      }
      LOG_INFO("shutting down", {{"signal", std::to_string(signal)}});
      running->Shutdown();
      return;
    }
  });
  running->Wait();
  signal_thread.join();
  server->reset();
  return 0;
}

}  // namespace spinel::server
