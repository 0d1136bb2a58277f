#include "agent/attestor/workload_attestor.h"

#include <poll.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <utility>

#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::StrCat;

std::string PidText(pid_t pid) { return std::to_string(static_cast<int64_t>(pid)); }

absl::Status Exited(pid_t pid, std::string_view how) {
  return absl::FailedPreconditionError(
      StrCat("process ", PidText(pid), " exited during attestation (", how, ")"));
}

// OK while the process behind `pidfd` runs; FailedPrecondition once it has exited (a pidfd
// polls readable from then on, zombie or reaped).
absl::Status CheckPidfdAlive(int pidfd, pid_t pid) {
  pollfd pfd{.fd = pidfd, .events = POLLIN, .revents = 0};
  int n = 0;
  do {
    n = ::poll(&pfd, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    return absl::InternalError(
        StrCat("polling pidfd of process ", PidText(pid), ": ", std::strerror(errno)));
  }
  if ((pfd.revents & POLLNVAL) != 0) {
    return absl::InvalidArgumentError(StrCat("pidfd of process ", PidText(pid), " is invalid"));
  }
  if (n > 0) return Exited(pid, "pidfd readable");
  return absl::OkStatus();
}

// Reads the stat entry of a live process; a missing entry or a zombie is FailedPrecondition.
absl::StatusOr<ProcStat> ReadLiveStat(const ProcFs& proc, pid_t pid) {
  absl::StatusOr<ProcStat> stat = proc.ReadStat(pid);
  if (absl::IsNotFound(stat.status())) return Exited(pid, "no /proc entry");
  if (!stat.ok()) return stat.status();
  if (stat->state == 'Z' || stat->state == 'X') return Exited(pid, "zombie");
  return stat;
}

}  // namespace

absl::StatusOr<ProcessInfo> MakeProcessInfo(const ProcFs& proc, pid_t pid, uid_t uid, gid_t gid,
                                            int pidfd) {
  absl::StatusOr<ProcStat> stat = ReadLiveStat(proc, pid);
  if (!stat.ok()) return stat.status();
  if (pidfd >= 0) {
    absl::Status alive = CheckPidfdAlive(pidfd, pid);
    if (!alive.ok()) return alive;
  }
  return ProcessInfo{
      .pid = pid, .uid = uid, .gid = gid, .start_time = stat->start_time, .pidfd = pidfd};
}

absl::Status CheckProcessIdentity(const ProcFs& proc, const ProcessInfo& process) {
  if (!process.start_time.has_value()) {
    return absl::FailedPreconditionError(
        StrCat("process ", PidText(process.pid), ": no start time recorded to check it against"));
  }
  absl::StatusOr<ProcStat> stat = ReadLiveStat(proc, process.pid);
  if (!stat.ok()) return stat.status();
  if (stat->start_time != *process.start_time) {
    return absl::FailedPreconditionError(
        StrCat("process ", PidText(process.pid), " changed during attestation: start time ",
               stat->start_time, " != ", *process.start_time, " recorded at connect (pid reused)"));
  }
  if (process.pidfd >= 0) return CheckPidfdAlive(process.pidfd, process.pid);
  return absl::OkStatus();
}

CompositeAttestor::CompositeAttestor(ProcFs proc,
                                     std::vector<std::unique_ptr<WorkloadAttestor>> attestors)
    : proc_(std::move(proc)), attestors_(std::move(attestors)) {}

absl::StatusOr<common::SelectorSet> CompositeAttestor::Attest(const ProcessInfo& connected) const {
  ProcessInfo process = connected;
  if (!process.start_time.has_value()) {
    SPINEL_ASSIGN_OR_RETURN(process, MakeProcessInfo(proc_, connected.pid, connected.uid,
                                                     connected.gid, connected.pidfd));
  }
  absl::Status before = CheckProcessIdentity(proc_, process);
  if (!before.ok()) return before;
  common::SelectorSet all;
  for (const std::unique_ptr<WorkloadAttestor>& attestor : attestors_) {
    absl::StatusOr<common::SelectorSet> selectors = attestor->Attest(process);
    if (!selectors.ok()) {
      LOG_WARN("workload attestor failed; continuing without its selectors",
               {{"attestor", std::string(attestor->name())},
                {"pid", PidText(process.pid)},
                {"error", selectors.status().ToString()}});
      continue;
    }
    all.insert(all.end(), std::make_move_iterator(selectors->begin()),
               std::make_move_iterator(selectors->end()));
  }
  // Whatever the attestors read is only trusted if the same process is still there now.
  absl::Status after = CheckProcessIdentity(proc_, process);
  if (!after.ok()) return after;
  common::Normalize(all);
  return all;
}

}  // namespace spinel::agent
