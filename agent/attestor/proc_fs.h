// ProcFs: every /proc read of workload attestation goes through this object, so tests can point
// it at a fixture tree instead of the real /proc.
//
//   ProcFs proc;                          // "/proc"
//   ProcFs fixture("/tmp/spinel-test-x"); // <root>/<pid>/{stat,status,exe,cgroup}
//   absl::StatusOr<ProcStat> stat = proc.ReadStat(pid);
//
// Errors: NotFound when the process (or the entry) does not exist or has exited (ENOENT/ESRCH);
// PermissionDenied when the agent may not read the entry (EACCES/EPERM, e.g. /proc/<pid>/exe of
// another user's process without CAP_SYS_PTRACE); InvalidArgument when the content does not
// parse; Internal for other I/O errors. Messages name the path.
//
// Thread-safety: a ProcFs is immutable after construction (the test hook is set before use), so
// any number of threads may call it concurrently. It is cheap to copy (a path and a hook).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace spinel::agent {

// An owned file descriptor, closed on destruction. Move-only.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ~ScopedFd();
  ScopedFd(ScopedFd&& other) noexcept : fd_(other.Release()) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept;
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership; the caller must close the returned descriptor.
  int Release();

 private:
  int fd_ = -1;
};

// The fields of /proc/<pid>/stat that attestation uses.
struct ProcStat {
  pid_t pid = 0;            // field 1
  std::string comm;         // field 2, without the parentheses; may contain anything
  char state = '?';         // field 3: R, S, D, T, t, Z (zombie), X (dead), I, ...
  uint64_t start_time = 0;  // field 22: clock ticks (1/USER_HZ s) after boot
};

// One line of /proc/<pid>/status ("Uid:" or "Gid:"): real, effective, saved set, filesystem.
struct ProcIds {
  uint32_t real = 0;
  uint32_t effective = 0;
  uint32_t saved = 0;
  uint32_t filesystem = 0;

  bool operator==(const ProcIds&) const = default;
};

// The fields of /proc/<pid>/status that attestation uses.
struct ProcStatus {
  ProcIds uid;
  ProcIds gid;
  std::vector<uint32_t> groups;  // "Groups:": supplementary group ids, as the kernel lists them
};

// Parses the content of /proc/<pid>/stat. comm (field 2) may contain spaces, parentheses and
// newlines, so the fields after it are found from the LAST ')'.
absl::StatusOr<ProcStat> ParseProcStat(std::string_view content);

// Parses the content of /proc/<pid>/status; requires "Uid:" and "Gid:" with four ids each;
// "Groups:" may be missing or empty (no supplementary groups).
absl::StatusOr<ProcStatus> ParseProcStatus(std::string_view content);

class ProcFs {
 public:
  // Called with (pid, entry) before each read of <root>/<pid>/<entry>; tests use it to change
  // the fixture between reads (e.g. simulate pid reuse).
  using ReadHook = std::function<void(pid_t pid, std::string_view entry)>;

  explicit ProcFs(std::string root = "/proc");

  const std::string& root() const { return root_; }

  // <root>/<pid>/stat.
  absl::StatusOr<ProcStat> ReadStat(pid_t pid) const;
  // <root>/<pid>/status.
  absl::StatusOr<ProcStatus> ReadStatus(pid_t pid) const;
  // The target of the <root>/<pid>/exe symlink, with a trailing " (deleted)" (the kernel's mark
  // for an unlinked executable) removed. Always absolute; NotFound for kernel threads.
  absl::StatusOr<std::string> ReadExePath(pid_t pid) const;
  // The content of <root>/<pid>/cgroup ("hierarchy:controllers:path" lines).
  absl::StatusOr<std::string> ReadCgroup(pid_t pid) const;
  // Opens <root>/<pid>/exe read-only. On the real /proc this opens the very file the process is
  // executing (even if it was unlinked or its path now names another file), so a digest of it
  // is the digest of the running binary.
  absl::StatusOr<ScopedFd> OpenExe(pid_t pid) const;

  void SetReadHookForTest(ReadHook hook) { hook_ = std::move(hook); }

 private:
  std::string PathOf(pid_t pid, std::string_view entry) const;
  void RunHook(pid_t pid, std::string_view entry) const;
  absl::StatusOr<std::string> ReadEntry(pid_t pid, std::string_view entry) const;

  std::string root_;
  ReadHook hook_;
};

}  // namespace spinel::agent
