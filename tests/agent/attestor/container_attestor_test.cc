#include "agent/attestor/container_attestor.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/agent/attestor/proc_fixture.h"

using spinel::agent::ContainerAttestor;
using spinel::agent::ContainerInfo;
using spinel::agent::ParseContainerCgroups;
using spinel::agent::ProcessInfo;
using spinel::agent::ProcFs;
using spinel::testing::ProcFixture;
using spinel::testing::Strings;

namespace {

const std::string kId = "3f1c5b1e0a9d8c7b6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa01";
const std::string kOtherId = "aa" + std::string(62, '0');
const std::string kPod = "2c48913c-b29f-11e7-9350-020968147796";
const std::string kPodUnderscored = "2c48913c_b29f_11e7_9350_020968147796";

struct Case {
  std::string name;
  std::string cgroup;
  std::vector<std::string> selectors;  // normalized
};

std::vector<Case> Cases() {
  const std::string c = "container:id:" + kId;
  const std::string d = "docker:id:" + kId;
  const std::string p = "k8s:pod-uid:" + kPod;
  return {
      {"docker, cgroup v1 (cgroupfs driver)",
       "12:memory:/docker/" + kId + "\n11:cpu,cpuacct:/docker/" + kId +
           "\n1:name=systemd:/docker/" + kId + "\n",
       {c, d}},
      {"docker, systemd driver (cgroup v2)", "0::/system.slice/docker-" + kId + ".scope\n", {c, d}},
      {"docker, systemd inside the container",
       "0::/system.slice/docker-" + kId + ".scope/init.scope\n",
       {c, d}},
      {"containerd outside Kubernetes", "0::/system.slice/cri-containerd-" + kId + ".scope\n", {c}},
      {"cri-o", "0::/machine.slice/crio-" + kId + ".scope\n", {c}},
      {"podman (rootful)", "0::/machine.slice/libpod-" + kId + ".scope/container\n", {c}},
      {"kubepods v1, cgroupfs driver",
       "4:memory:/kubepods/besteffort/pod" + kPod + "/" + kId + "\n3:cpu:/kubepods/besteffort/pod" +
           kPod + "/" + kId + "\n",
       {c, p}},
      {"kubepods v1, guaranteed QoS", "4:memory:/kubepods/pod" + kPod + "/" + kId + "\n", {c, p}},
      {"kubepods v2, systemd driver, containerd",
       "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + kPodUnderscored +
           ".slice/cri-containerd-" + kId + ".scope\n",
       {c, p}},
      {"kubepods v2, guaranteed, cri-o",
       "0::/kubepods.slice/kubepods-pod" + kPodUnderscored + ".slice/crio-" + kId + ".scope\n",
       {c, p}},
      {"kubepods v1, systemd driver, docker",
       "5:pids:/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" +
           kPodUnderscored + ".slice/docker-" + kId + ".scope\n",
       {c, d, p}},
      {"kind (kubelet-kubepods)",
       "0::/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
       "kubelet-kubepods-besteffort-pod" +
           kPodUnderscored + ".slice/cri-containerd-" + kId + ".scope\n",
       {c, p}},
      {"agent in its own cgroup namespace sees ../ prefixes",
       "0::/../../kubepods.slice/kubepods-pod" + kPodUnderscored + ".slice/cri-containerd-" + kId +
           ".scope\n",
       {c, p}},
      {"nested docker: the innermost container wins",
       "0::/system.slice/docker-" + kOtherId + ".scope/docker/" + kId + "\n",
       {c, d}},
      {"hybrid v1/v2 lines agreeing",
       "1:name=systemd:/system.slice/docker-" + kId + ".scope\n0::/docker/" + kId + "\n",
       {c, d}},
      {"a host process", "0::/user.slice/user-1000.slice/session-3.scope\n", {}},
      {"a system service", "0::/system.slice/sshd.service\n12:memory:/\n", {}},
      {"init", "0::/init.scope\n", {}},
      {"empty file", "", {}},
      {"bare hex not under docker or a pod", "0::/system.slice/" + kId + "\n", {}},
      {"short id", "0::/system.slice/docker-abc123.scope\n", {}},
      {"upper-case id", "0::/docker/" + std::string(64, 'A') + "\n", {}},
      {"pod segment outside kubepods", "0::/system.slice/pod" + kPod + "/" + kId + "\n", {}},
      {"rootless container under a user manager is not trusted",
       "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + kId + ".scope\n",
       {}},
      {"forged docker scope in a delegated user subtree",
       "0::/user.slice/user-1000.slice/user@1000.service/app.slice/docker-" + kId + ".scope\n",
       {}},
  };
}

}  // namespace

TEST_CASE("ContainerAttestor: selectors for each cgroup shape") {
  ProcFixture fx;
  ContainerAttestor attestor(fx.Proc());
  for (const Case& c : Cases()) {
    CAPTURE(c.name);
    fx.WriteCgroup(77, c.cgroup);
    auto selectors = attestor.Attest(ProcessInfo{.pid = 77});
    REQUIRE(selectors.ok());
    spinel::common::Normalize(*selectors);
    CHECK(Strings(*selectors) == c.selectors);
  }
}

TEST_CASE("ParseContainerCgroups: runtime and pod are reported separately") {
  auto info = ParseContainerCgroups("0::/kubepods.slice/kubepods-pod" + kPodUnderscored +
                                    ".slice/cri-containerd-" + kId + ".scope\n");
  REQUIRE(info.ok());
  CHECK(*info == ContainerInfo{.container_id = kId, .docker = false, .pod_uid = kPod});
  auto none = ParseContainerCgroups("0::/\n");
  REQUIRE(none.ok());
  CHECK(*none == ContainerInfo{});
}

TEST_CASE("ParseContainerCgroups: lines naming different containers or pods are an error") {
  auto containers =
      ParseContainerCgroups("4:memory:/docker/" + kId + "\n3:cpu:/docker/" + kOtherId + "\n");
  CHECK(absl::IsFailedPrecondition(containers.status()));
  auto pods = ParseContainerCgroups("4:memory:/kubepods/pod" + kPod +
                                    "\n3:cpu:/kubepods/pod0000aaaa-b29f-11e7-9350-020968147796\n");
  CHECK(absl::IsFailedPrecondition(pods.status()));
  CHECK(absl::IsInvalidArgument(ParseContainerCgroups("garbage line\n").status()));
}

TEST_CASE("ContainerAttestor: a missing process is an error, the real test process is not") {
  ProcFixture fx;
  CHECK(absl::IsNotFound(ContainerAttestor(fx.Proc()).Attest(ProcessInfo{.pid = 5}).status()));
  // Wherever these tests run (host or container), the real cgroup file parses.
  CHECK(ContainerAttestor(ProcFs()).Attest(ProcessInfo{.pid = getpid()}).ok());
}
