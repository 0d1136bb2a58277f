// ContainerAttestor: container and Kubernetes pod selectors from /proc/<pid>/cgroup.
//
//   container:id:<64 hex>   the container, whatever the runtime
//   docker:id:<64 hex>      the same id, when the cgroup shows the runtime is Docker
//   k8s:pod-uid:<uid>       the Kubernetes pod, from a kubepods cgroup
//
// Recognized cgroup path segments (cgroup v1 lines and the v2 "0::" line alike):
//   docker/<id>                                  Docker, cgroupfs driver (v1)
//   docker-<id>.scope                            Docker, systemd driver
//   cri-containerd-<id>.scope, crio-<id>[.scope], libpod-<id>.scope
//                                                containerd (CRI), CRI-O, Podman
//   kubepods.../pod<uid>/<id>                    Kubernetes, cgroupfs driver
//   kubepods...-pod<uid_with_underscores>.slice  Kubernetes, systemd driver ('_' read as '-')
// where <id> is 64 lower-case hex digits; the innermost (last) container segment wins, and the
// pod segment must come after a segment starting with "kubepods" (or "kubelet-kubepods", as in
// kind). A process in no container yields no selectors (not an error).
//
// Trust: these selectors are only as trustworthy as the cgroup names, which normally only root
// (the container runtime, the kubelet) can create. Under a delegated cgroup subtree a user can
// create cgroups with any name, and cgroup files are world-readable, so a user could copy
// another container's id. Lines under a systemd user manager (a "user@<uid>.service" segment,
// the subtree systemd delegates to each user) are therefore ignored: rootless containers get no
// container selectors. Delegating other subtrees (Delegate= on a service) to untrusted users
// would allow forging these selectors.
//
// Errors: the ProcFs errors; InvalidArgument for a malformed cgroup file; FailedPrecondition when
// the lines of the file name different containers or pods. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "agent/attestor/proc_fs.h"
#include "agent/attestor/workload_attestor.h"

namespace spinel::agent {

// What a cgroup file says about containers. Empty strings when not in a container or pod.
struct ContainerInfo {
  std::string container_id;  // 64 lower-case hex digits
  bool docker = false;       // the runtime is known to be Docker
  std::string pod_uid;       // Kubernetes pod uid, dashed form

  bool operator==(const ContainerInfo&) const = default;
};

// Parses the content of /proc/<pid>/cgroup.
absl::StatusOr<ContainerInfo> ParseContainerCgroups(std::string_view cgroup_file);

class ContainerAttestor : public WorkloadAttestor {
 public:
  explicit ContainerAttestor(ProcFs proc) : proc_(std::move(proc)) {}

  std::string_view name() const override { return "container"; }
  absl::StatusOr<common::SelectorSet> Attest(const ProcessInfo& process) const override;

 private:
  const ProcFs proc_;
};

}  // namespace spinel::agent
