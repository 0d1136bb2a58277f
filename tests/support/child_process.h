// ChildProcess: a long-running program (a spinel-server, a spinel-agent, an openssl s_server)
// started with fork/exec for a test or a benchmark, its stdout and stderr appended to a log
// file. It is killed with SIGKILL and reaped on destruction, so a test or benchmark that fails
// half-way leaves nothing running.
//
// Errors are absl::Status values (tests REQUIRE them OK). No doctest assertions. Not
// thread-safe: one owning thread starts, polls and kills it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace spinel::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (an absolute path; no PATH search) with `argv`, stdin inherited, stdout and
  // stderr appended to `log_path` (created 0600). FailedPrecondition when already running,
  // InvalidArgument for an empty argv, Internal when fork fails. A program that cannot be
  // executed exits 127.
  absl::Status Start(const std::vector<std::string>& argv, const std::string& log_path);
  // True while the process has not exited (reaps it when it has).
  bool Running();
  // Sends `signal` and waits for the process to end; its wait status, or the one seen
  // earlier (-1 when it never ran).
  int Kill(int signal);
  // The running process's pid; -1 when not running.
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

}  // namespace spinel::testing
