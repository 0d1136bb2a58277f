// Helpers for integration tests that run the real binaries:
//   - BuildDir()/SourceDir(): $SPINEL_BUILD_DIR and $SPINEL_SOURCE_DIR (set by ctest);
//   - ShellQuote() and RunCommand(): run a shell command, capturing stdout, stderr and the exit
//     code separately;
//   - Contains(): substring test for output and logs; CountCertificates() in a PEM text;
//   - WaitFor()/WaitForFile(): poll with a deadline instead of sleeping a fixed time;
//   - ChildProcess: fork/exec a long-running program with its output in a log file, kill it
//     (SIGTERM or SIGKILL) and reap it; killed with SIGKILL on destruction;
//   - ServerProcess: a spinel-server with a fresh config in a temp directory (port 0, data dir
//     inside it, the shipped zones), started and waited for until `healthcheck` passes, plus
//     Cli() to run operator commands against it; UseDatastore() points it at another datastore.
// Temp directories are spinel::testing::TempDir (tests/fakes/temp_dir.h). Failures abort the
// current doctest case (REQUIRE). Not thread-safe; one test thread.
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

#include "tests/fakes/temp_dir.h"

namespace spinel::testing {

inline std::string RequiredEnv(const char* name) {
  const char* value = std::getenv(name);
  REQUIRE_MESSAGE((value != nullptr && *value != '\0'), name << " is not set (ctest sets it)");
  return value;
}
inline std::string BuildDir() { return RequiredEnv("SPINEL_BUILD_DIR"); }
inline std::string SourceDir() { return RequiredEnv("SPINEL_SOURCE_DIR"); }

// 'text' for /bin/sh, with embedded single quotes escaped.
inline std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct CommandResult {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string out;     // stdout
  std::string err;     // stderr
  std::string Describe() const {
    return "exit " + std::to_string(exit_code) + "\nstdout:\n" + out + "\nstderr:\n" + err;
  }
};

// Runs `command` with /bin/sh; stdin is /dev/null.
inline CommandResult RunCommand(const std::string& command) {
  char err_path[] = "/tmp/spinel-stderr-XXXXXX";
  int err_fd = mkstemp(err_path);
  REQUIRE(err_fd >= 0);
  ::close(err_fd);
  std::string full = "(" + command + ") </dev/null 2>" + ShellQuote(err_path);
  FILE* pipe = popen(full.c_str(), "r");
  REQUIRE(pipe != nullptr);
  CommandResult result;
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) result.out.append(buf, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = ReadWholeFile(err_path);
  ::unlink(err_path);
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

// Polls `ready` every 50ms until it returns true (true) or `timeout` passes (false).
inline bool WaitFor(const std::function<bool()>& ready,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return ready();
}

inline bool WaitForFile(const std::string& path,
                        std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  return WaitFor([&] { return ::access(path.c_str(), F_OK) == 0; }, timeout);
}

// A program running in the background; its stdout and stderr go to `log_path`.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { Kill(SIGKILL); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  void Start(const std::vector<std::string>& argv, const std::string& log_path) {
    REQUIRE(pid_ <= 0);
    REQUIRE(!argv.empty());
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (log >= 0) {
        ::dup2(log, STDOUT_FILENO);
        ::dup2(log, STDERR_FILENO);
      }
      std::vector<char*> args;
      for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
    }
    pid_ = pid;
  }

  // True while the process has not exited (reaps it when it has).
  bool Running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_status_ = status;
      pid_ = -1;
      return false;
    }
    return true;
  }

  // Sends `signal` and waits for the process to end; returns its wait status (or -1).
  int Kill(int signal) {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_status_ = status;
    return status;
  }

  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

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
           << "zones_dir: "
           << (zones_dir.empty() ? SourceDir() + "/trust-zones/zones" : zones_dir) << "\n"
           << "listen:\n"
           << "  agent_api: 127.0.0.1:0\n"
           << "  https: 127.0.0.1:0\n";
    REQUIRE(config.good());
  }

  // Starts the server and waits until `healthcheck` passes.
  void Start() {
    process_.Start({binary_, "run", "--config", config_path_}, log_path_);
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
