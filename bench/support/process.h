// Process plumbing for the benchmarks that run the real binaries (no doctest here: errors are
// absl::Status values and the benchmark decides what to do with them):
//   - BuildDir()/SourceDir(): $SPINEL_BUILD_DIR / $SPINEL_SOURCE_DIR when set; else the build
//     directory this benchmark binary lives in (<build>/bench/<name>_bench) and the source
//     directory it was configured from.
//   - TempDir: a fresh directory under $TMPDIR (or /tmp), removed with its contents on
//     destruction.
//   - ShellQuote(), RunShellCommand(), ReadWholeFile(), ChildProcess: the child-process helpers
//     the tests use too (tests/support/: command.h, child_process.h), brought in here;
//   - WaitFor(): poll with a deadline instead of sleeping a fixed time (tests/support/wait_for.h,
//     polling every 20 ms here);
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
#include "tests/support/child_process.h"
#include "tests/support/command.h"
#include "tests/support/wait_for.h"

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

using testing::ChildProcess;
using testing::CommandResult;
using testing::ReadWholeFile;
using testing::RunShellCommand;
using testing::ShellQuote;

// testing::WaitFor, polling every 20 ms unless told otherwise (finer than the tests' 50 ms).
inline bool WaitFor(const std::function<bool()>& ready,
                    std::chrono::milliseconds timeout = std::chrono::seconds(60),
                    std::chrono::milliseconds interval = std::chrono::milliseconds(20)) {
  return testing::WaitFor(ready, timeout, interval);
}

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
