// Workload attestation: turning the process on the other end of a Workload API connection into
// selectors ("unix:uid:1000", "k8s:pod-uid:...").
//
// A WorkloadAttestor derives one family of selectors from one source (unix credentials and the
// executable, the cgroup, ...). CompositeAttestor runs all of them, unions the results, and
// guards the whole attestation against pid reuse.
//
// Process identity guard (pid reuse). SO_PEERCRED reports the pid of the process that called
// connect(); that process may exit and its pid be given to another process before or while the
// agent reads /proc/<pid>. CompositeAttestor::Attest therefore:
//   1. reads /proc/<pid>/stat and requires start_time == ProcessInfo::start_time (recorded right
//      after SO_PEERCRED) and a live state (not zombie 'Z' or dead 'X');
//   2. runs every attestor (all other /proc reads happen here);
//   3. repeats check 1, and when ProcessInfo::pidfd is set, polls it: a pidfd becomes readable
//      once its process has exited.
// Any failure of 1 or 3 fails the whole attestation with FailedPrecondition, and no selectors are
// returned. Guarantee: every /proc read in step 2 came from a process whose pid and start time
// (in clock ticks since boot, 1/USER_HZ = 10 ms on Linux) equal those recorded at connection
// time, which lived through the whole of step 2. Pids are only reused after their process has
// exited and been reaped, and a new process gets a later start time, so another process could
// only pass the check by taking over the same pid within the same clock tick as the original
// started. With a pidfd from SO_PEERPIDFD (Linux >= 6.5; taken on the socket, so it pins the
// connecting process itself) even that is excluded: the pidfd's process was alive at step 3, so
// its pid was never free during step 2. A pidfd from pidfd_open(pid) after accept (Linux >= 5.3)
// pins whatever holds the pid at that moment, so it is as good as the start-time check.
// Not covered (inherent to peer-credential attestation, as in SPIRE): the connecting process
// exec()ing another binary after connect() (same pid and start time; the unix attestor does
// reject a change of effective uid/gid since connect), and another process using a connection it
// inherited or was passed. ProcessInfo::start_time must itself be read promptly after accept:
// if the connecting process exited before that read, the start time belongs to the pid's new
// owner; SO_PEERPIDFD closes that window too (MakeProcessInfo checks the pidfd after reading).
// When the listener could not read it (start_time is nullopt), Attest reads it first
// (MakeProcessInfo), which widens that window to the time until attestation.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/attestor/proc_fs.h"
#include "agent/attestor/process_info.h"
#include "common/selector.h"

namespace spinel::agent {

// Builds a ProcessInfo from peer credentials: reads the start time from `proc` and, when
// `pidfd` >= 0 (borrowed), checks after that read that the pidfd's process is still alive.
// Errors: FailedPrecondition when the process has exited; the ProcFs errors otherwise.
absl::StatusOr<ProcessInfo> MakeProcessInfo(const ProcFs& proc, pid_t pid, uid_t uid, gid_t gid,
                                            int pidfd = -1);

// Checks that /proc/<pid> still belongs to `process` (steps 1 and 3 above). Returns
// FailedPrecondition naming the pid when the process exited, became a zombie, or was replaced
// (start time differs) or when no start time was recorded; other ProcFs errors (e.g.
// PermissionDenied) as they are.
absl::Status CheckProcessIdentity(const ProcFs& proc, const ProcessInfo& process);

// One family of selectors for a process.
//
// Implementations must be thread-safe (Attest is called concurrently for different connections)
// and must not block for long: attestation runs on every new Workload API connection.
class WorkloadAttestor {
 public:
  virtual ~WorkloadAttestor() = default;

  // A short lower-case name for logs ("unix", "container").
  virtual std::string_view name() const = 0;

  // The selectors for `process` (not necessarily normalized). A process to which the attestor
  // does not apply yields an empty set, not an error. An error means this attestor could not
  // decide; the composite logs it and continues without its selectors.
  virtual absl::StatusOr<common::SelectorSet> Attest(const ProcessInfo& process) const = 0;
};

// Runs every attestor under the process identity guard described at the top of this file.
// Thread-safe when its attestors are.
class CompositeAttestor : public WorkloadAttestor {
 public:
  CompositeAttestor(ProcFs proc, std::vector<std::unique_ptr<WorkloadAttestor>> attestors);

  std::string_view name() const override { return "composite"; }

  // The normalized union of the selectors of every attestor that succeeded; attestors that fail
  // are logged (WARN, with the pid and error) and skipped, so the result may be empty. Returns
  // FailedPrecondition, and no selectors, when the process identity guard fails. A `process`
  // without a start time gets one from MakeProcessInfo before the guard (its errors as they are).
  absl::StatusOr<common::SelectorSet> Attest(const ProcessInfo& process) const override;

 private:
  const ProcFs proc_;
  const std::vector<std::unique_ptr<WorkloadAttestor>> attestors_;
};

}  // namespace spinel::agent
