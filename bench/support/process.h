// Process plumbing for the benchmarks that run the real binaries (no doctest here: errors are
// absl::Status values and the benchmark decides what to do with them):
//   - BuildDir()/SourceDir(): $SPINEL_BUILD_DIR / $SPINEL_SOURCE_DIR when set; else the build
//     directory this benchmark binary lives in (<build>/bench/<name>_bench) and the source
//     directory it was configured from.
//   - TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its contents on
//     destruction.
//   - ShellQuote(), RunCommand(): run a shell command, capturing stdout, stderr, exit code.
//   - WaitFor(): poll with a deadline instead of sleeping a fixed time.
//   - ChildProcess: fork/exec a long-running program, output to a log file; SIGKILLed and
//     reaped on destruction, so a benchmark that fails half-way leaves nothing running.
//   - ReadUsage(): CPU time and peak RSS of a running process from /proc.
//   - RaiseFileLimit(): raise RLIMIT_NOFILE (soft up to the hard limit) for many clients.
// Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace spinel::bench {

std::string BuildDir();
std::string SourceDir();

class TempDir {
 public:
  // Aborts the program when no directory can be made (nothing sensible to do then).
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(std::string_view name) const { return path_ + "/" + std::string(name); }
  // Writes `content` to File(name) and returns that path.
  absl::StatusOr<std::string> Write(std::string_view name, std::string_view content) const;

 private:
  std::string path_;
};

// 'text' for /bin/sh, with embedded single quotes escaped.
std::string ShellQuote(std::string_view text);
std::string ReadWholeFile(const std::string& path);

struct CommandResult {
  int exit_code = -1;  // -1 when the command did not exit normally
  std::string out;
  std::string err;
  std::string Describe() const;
};
// Runs `command` with /bin/sh; stdin is /dev/null.
CommandResult RunCommand(const std::string& command);

// Polls `ready` every `interval` until it returns true (true) or `timeout` passes (false).
bool WaitFor(const std::function<bool()>& ready,
             std::chrono::milliseconds timeout = std::chrono::seconds(60),
             std::chrono::milliseconds interval = std::chrono::milliseconds(20));

class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess() { Kill(9); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  // Starts argv[0] (an absolute path) with stdout and stderr appended to `log_path`.
  absl::Status Start(const std::vector<std::string>& argv, const std::string& log_path);
  // True while the process has not exited (reaps it when it has).
  bool Running();
  // Sends `signal` and waits for the process to end; its wait status, or -1.
  int Kill(int signal);
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int exit_status_ = -1;
};

struct ProcessUsage {
  double cpu_seconds = 0;  // user + system
  double peak_rss_mb = 0;  // VmHWM
  double rss_mb = 0;       // VmRSS now
};
absl::StatusOr<ProcessUsage> ReadUsage(pid_t pid);

// Sets the soft RLIMIT_NOFILE to min(`wanted`, hard limit) (raising the hard limit too when
// allowed, as root); returns the soft limit in force afterwards.
absl::StatusOr<long> RaiseFileLimit(long wanted);

}  // namespace spinel::bench
