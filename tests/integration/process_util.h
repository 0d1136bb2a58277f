// Helpers for integration tests that run the real binaries:
//   - BuildDir()/SourceDir(): $SPINEL_BUILD_DIR and $SPINEL_SOURCE_DIR (set by ctest);
//   - RunCommand(): RunShellCommand (tests/support/command.h: stdout, stderr and the exit code
//     separately), failing the test case when the shell cannot be started;
//   - Contains(): substring test for output and logs; CountCertificates() in a PEM text;
//   - WaitForFile(): WaitFor (tests/support/wait_for.h) until a file exists;
//   - RequireOk(): fail the test case with a status's message unless it is OK;
//   - ServerProcess: a spinel-server with a fresh config in a temp directory (port 0, data dir
//     inside it, the shipped zones), started and waited for until `healthcheck` passes, plus
//     Cli() to run operator commands against it; UseDatastore() points it at another datastore.
// Child processes are spinel::testing::ChildProcess (tests/support/child_process.h), shared
// with the benchmarks; temp directories are spinel::testing::TempDir (tests/fakes/temp_dir.h).
// Failures abort the current doctest case (REQUIRE). Not thread-safe; one test thread.
#pragma once

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "tests/fakes/temp_dir.h"
#include "tests/support/child_process.h"
#include "tests/support/command.h"
#include "tests/support/wait_for.h"

namespace spinel::testing {

inline std::string RequiredEnv(const char* name) {
  const char* value = std::getenv(name);
  REQUIRE_MESSAGE((value != nullptr && *value != '\0'), name << " is not set (ctest sets it)");
  return value;
}
inline std::string BuildDir() { return RequiredEnv("SPINEL_BUILD_DIR"); }
inline std::string SourceDir() { return RequiredEnv("SPINEL_SOURCE_DIR"); }

// RunShellCommand (tests/support/command.h), failing the current test case when /bin/sh could
// not be started at all.
inline CommandResult RunCommand(const std::string& command) {
  CommandResult result = RunShellCommand(command);
  REQUIRE_MESSAGE(result.ran, result.err);
  return result;
}

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The number of PEM certificates in `pem`.
inline size_t CountCertificates(const std::string& pem) {
  size_t count = 0;
  for (size_t at = pem.find("BEGIN CERTIFICATE"); at != std::string::npos;
       at = pem.find("BEGIN CERTIFICATE", at + 1)) {
    ++count;
  }
  return count;
}

inline bool WaitForFile(const std::string& path,
                        std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  return WaitFor([&] { return ::access(path.c_str(), F_OK) == 0; }, timeout);
}

// Fails the current test case with `status` unless it is OK (e.g. ChildProcess::Start).
inline void RequireOk(const absl::Status& status) {
  REQUIRE_MESSAGE(status.ok(), status.ToString());
}

// The control trust domain of ServerProcess.
inline constexpr char kTestControlTd[] = "control.spinel.test";

// A spinel-server on port 0 with its data directory in `dir`, serving the zones of `zones_dir`
// (default: the shipped zones).
class ServerProcess {
 public:
  explicit ServerProcess(const TempDir& dir, const std::string& zones_dir = "")
      : binary_(BuildDir() + "/server/spinel-server"),
        config_path_(dir.File("server.yaml")),
        data_dir_(dir.File("data")),
        log_path_(dir.File("server.log")) {
    std::ofstream config(config_path_);
    config << "trust_domain: " << kTestControlTd << "\n"
           << "data_dir: " << data_dir_ << "\n"
           << "zones_dir: " << (zones_dir.empty() ? SourceDir() + "/trust-zones/zones" : zones_dir)
           << "\n"
           << "listen:\n"
           << "  agent_api: 127.0.0.1:0\n"
           << "  https: 127.0.0.1:0\n";
    REQUIRE(config.good());
  }

  // Starts the server and waits until `healthcheck` passes.
  void Start() {
    RequireOk(process_.Start({binary_, "run", "--config", config_path_}, log_path_));
    bool healthy = WaitFor([&] {
      REQUIRE_MESSAGE(process_.Running(), "spinel-server exited:\n" << Log());
      return Cli("healthcheck").exit_code == 0;
    });
    REQUIRE_MESSAGE(healthy, "spinel-server did not become healthy:\n" << Log());
    REQUIRE(WaitForFile(data_dir_ + "/agent-api.addr"));
  }
  // SIGKILL (no clean shutdown) or SIGTERM; waits for the process to end.
  int Kill(int signal = SIGKILL) { return process_.Kill(signal); }
  // Sends `signal` (e.g. SIGHUP) without waiting.
  void Signal(int signal) {
    REQUIRE(process_.Running());
    REQUIRE(::kill(process_.pid(), signal) == 0);
  }

  // Runs `spinel-server <args>` against this server's admin socket (via SPINEL_ADMIN_SOCKET).
  CommandResult Cli(const std::string& args) const {
    return RunCommand("SPINEL_ADMIN_SOCKET=" + ShellQuote(socket_path()) + " " +
                      ShellQuote(binary_) + " " + args);
  }

  const std::string& binary() const { return binary_; }
  const std::string& data_dir() const { return data_dir_; }
  // The running server's pid (-1 when not running), e.g. for prlimit(2) on it.
  pid_t pid() const { return process_.pid(); }
  std::string socket_path() const { return data_dir_ + "/admin.sock"; }
  std::string Log() const { return ReadWholeFile(log_path_); }

 private:
  std::string binary_;
  std::string config_path_;
  std::string data_dir_;
  std::string log_path_;
  ChildProcess process_;
};

// Points the server configured in `dir` (a ServerProcess's) at the datastore `uri`, e.g. a
// PostgreSQL connection string; call before its Start().
inline void UseDatastore(const TempDir& dir, const std::string& uri) {
  std::ofstream config(dir.File("server.yaml"), std::ios::app);
  config << "datastore: \"" << uri << "\"\n";
  REQUIRE(config.good());
}

}  // namespace spinel::testing
