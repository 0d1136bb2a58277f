#include "agent/attestor/workload_attestor.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/attestor/container_attestor.h"
#include "agent/attestor/unix_attestor.h"
#include "tests/agent/attestor/proc_fixture.h"

using spinel::agent::CheckProcessIdentity;
using spinel::agent::CompositeAttestor;
using spinel::agent::ContainerAttestor;
using spinel::agent::MakeProcessInfo;
using spinel::agent::ProcessInfo;
using spinel::agent::ProcFs;
using spinel::agent::UnixAttestor;
using spinel::agent::WorkloadAttestor;
using spinel::common::Selector;
using spinel::common::SelectorSet;
using spinel::testing::MapIdNames;
using spinel::testing::ProcFixture;
using spinel::testing::Strings;

namespace {

class FakeAttestor : public WorkloadAttestor {
 public:
  FakeAttestor(std::string name, absl::StatusOr<SelectorSet> result)
      : name_(std::move(name)), result_(std::move(result)) {}
  std::string_view name() const override { return name_; }
  absl::StatusOr<SelectorSet> Attest(const ProcessInfo&) const override { return result_; }

 private:
  std::string name_;
  absl::StatusOr<SelectorSet> result_;
};

Selector S(const char* text) { return *Selector::Parse(text); }

// The unix and container attestors over `proc`, with fake names.
std::vector<std::unique_ptr<WorkloadAttestor>> RealAttestors(const ProcFs& proc) {
  UnixAttestor::Options options;
  auto names = std::make_shared<MapIdNames>();
  names->users = {{1000, "alice"}, {0, "root"}};
  options.names = names;
  std::vector<std::unique_ptr<WorkloadAttestor>> list;
  list.push_back(std::make_unique<UnixAttestor>(proc, options));
  list.push_back(std::make_unique<ContainerAttestor>(proc));
  return list;
}

// A child that waits to be killed; killed and reaped on destruction unless a test did it.
struct Sleeper {
  Sleeper() {
    pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      while (true) pause();
    }
  }
  ~Sleeper() {
    if (reaped) return;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
  void KillAndReap() {
    REQUIRE(kill(pid, SIGKILL) == 0);
    REQUIRE(waitpid(pid, nullptr, 0) == pid);
    reaped = true;
  }
  pid_t pid = -1;
  bool reaped = false;
};

bool Contains(const SelectorSet& selectors, const std::string& text) {
  std::vector<std::string> all = Strings(selectors);
  return std::find(all.begin(), all.end(), text) != all.end();
}

void WaitForState(pid_t pid, char state) {
  for (int i = 0; i < 500; ++i) {
    auto stat = ProcFs().ReadStat(pid);
    if (stat.ok() && stat->state == state) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  FAIL("process never reached state " << state);
}

const ProcessInfo kProcess{.pid = 4242, .uid = 1000, .gid = 1000, .start_time = 777};

}  // namespace

TEST_CASE("CompositeAttestor unions and normalizes; failing attestors are skipped") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, "bin");
  std::vector<std::unique_ptr<WorkloadAttestor>> list;
  list.push_back(
      std::make_unique<FakeAttestor>("one", SelectorSet{S("unix:uid:1000"), S("k8s:pod-uid:abc")}));
  list.push_back(
      std::make_unique<FakeAttestor>("broken", absl::UnavailableError("runtime socket down")));
  list.push_back(std::make_unique<FakeAttestor>(
      "two", SelectorSet{S("unix:uid:1000"), S("docker:id:ff"), S("a:b")}));
  CompositeAttestor composite(fx.Proc(), std::move(list));
  auto selectors = composite.Attest(kProcess);
  REQUIRE(selectors.ok());
  CHECK(Strings(*selectors) ==
        std::vector<std::string>{"a:b", "docker:id:ff", "k8s:pod-uid:abc", "unix:uid:1000"});

  std::vector<std::unique_ptr<WorkloadAttestor>> failing;
  failing.push_back(std::make_unique<FakeAttestor>("broken", absl::InternalError("x")));
  auto none = CompositeAttestor(fx.Proc(), std::move(failing)).Attest(kProcess);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("CompositeAttestor with the real attestors on a fixture container process") {
  ProcFixture fx;
  std::string binary = fx.AddProcess(4242, 777, "bin");
  const std::string id(64, 'e');
  fx.WriteCgroup(4242, "0::/system.slice/docker-" + id + ".scope\n");
  CompositeAttestor composite(fx.Proc(), RealAttestors(fx.Proc()));
  auto selectors = composite.Attest(kProcess);
  REQUIRE(selectors.ok());
  CHECK(Contains(*selectors, "docker:id:" + id));
  CHECK(Contains(*selectors, "container:id:" + id));
  CHECK(Contains(*selectors, "unix:user:alice"));
  CHECK(Contains(*selectors, "unix:path:" + binary));
}

TEST_CASE("Identity guard: a pid reused during attestation fails, never yields the new process") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, "workload binary");
  ProcFs proc = fx.Proc();
  int stat_reads = 0;
  proc.SetReadHookForTest([&](pid_t pid, std::string_view entry) {
    if (entry != "stat" || ++stat_reads != 2) return;
    // Between the checks the workload exited and pid 4242 went to a root process.
    fx.WriteStat(pid, "evil) (root", 'S', 900);
    fx.WriteStatus(pid, 0, 0, "0");
    fx.WriteExe(pid, "root-tool", "other binary");
  });
  // The attestors read the ORIGINAL process; only the final check sees the replacement.
  CompositeAttestor composite(proc, RealAttestors(fx.Proc()));
  auto selectors = composite.Attest(kProcess);
  REQUIRE(absl::IsFailedPrecondition(selectors.status()));
  std::string message(selectors.status().message());
  CHECK(message.find("changed during attestation") != std::string::npos);
  CHECK(message.find("900 != 777") != std::string::npos);
  CHECK(stat_reads == 2);
}

TEST_CASE("Identity guard: replaced before attestation, exited, or zombie") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, "bin");
  CompositeAttestor composite(fx.Proc(), RealAttestors(fx.Proc()));
  ProcessInfo earlier = kProcess;
  earlier.start_time = 700;  // the connecting process was another one
  CHECK(absl::IsFailedPrecondition(composite.Attest(earlier).status()));

  fx.WriteStat(4242, "app", 'Z', 777);
  auto zombie = composite.Attest(kProcess);
  REQUIRE(absl::IsFailedPrecondition(zombie.status()));
  CHECK(std::string(zombie.status().message()).find("exited") != std::string::npos);

  std::filesystem::remove(fx.PidDir(4242) + "/stat");
  CHECK(absl::IsFailedPrecondition(composite.Attest(kProcess).status()));
  CHECK(absl::IsFailedPrecondition(MakeProcessInfo(fx.Proc(), 4242, 1000, 1000).status()));
}

TEST_CASE("Identity guard: a start time not recorded at connect is read before attesting") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, "bin");
  ProcessInfo unrecorded = kProcess;
  unrecorded.start_time.reset();
  auto unchecked = CheckProcessIdentity(fx.Proc(), unrecorded);
  REQUIRE(absl::IsFailedPrecondition(unchecked));
  CHECK(std::string(unchecked.message()).find("no start time") != std::string::npos);

  CompositeAttestor composite(fx.Proc(), RealAttestors(fx.Proc()));
  auto selectors = composite.Attest(unrecorded);
  REQUIRE_MESSAGE(selectors.ok(), selectors.status().ToString());
  CHECK(Contains(*selectors, "unix:user:alice"));

  fx.WriteStat(4242, "app", 'Z', 777);  // gone by the time attestation reads it
  auto zombie = composite.Attest(unrecorded);
  REQUIRE(absl::IsFailedPrecondition(zombie.status()));
  CHECK(std::string(zombie.status().message()).find("exited") != std::string::npos);
}

TEST_CASE("Identity guard on the real /proc: a child reaped between the reads") {
  Sleeper child;
  ProcFs proc;
  auto info = MakeProcessInfo(proc, child.pid, getuid(), getgid());
  REQUIRE(info.ok());
  CHECK(info->start_time == proc.ReadStat(child.pid)->start_time);
  CHECK(CheckProcessIdentity(proc, *info).ok());

  // The first attestor kills and reaps the child after its reads; the second sees nothing.
  ProcFs killing = proc;
  bool killed = false;
  killing.SetReadHookForTest([&](pid_t pid, std::string_view entry) {
    if (entry != "cgroup" || killed) return;
    killed = true;
    CHECK(pid == child.pid);
    child.KillAndReap();
  });
  std::vector<std::unique_ptr<WorkloadAttestor>> list;
  list.push_back(std::make_unique<UnixAttestor>(proc));
  list.push_back(std::make_unique<ContainerAttestor>(killing));
  auto selectors = CompositeAttestor(proc, std::move(list)).Attest(*info);
  CHECK(killed);
  REQUIRE(absl::IsFailedPrecondition(selectors.status()));
  CHECK(std::string(selectors.status().message()).find("exited") != std::string::npos);
}

TEST_CASE("Identity guard with a pidfd: alive passes, exited (even unreaped) fails") {
  Sleeper sleeper;
  const pid_t child = sleeper.pid;
  // glibc 2.36 declares pidfd_open without extern "C"; call the syscall directly.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, child, 0));
  REQUIRE(pidfd >= 0);
  ProcFs proc;
  auto info = MakeProcessInfo(proc, child, getuid(), getgid(), pidfd);
  REQUIRE(info.ok());
  CHECK(info->pidfd == pidfd);
  CHECK(CheckProcessIdentity(proc, *info).ok());

  std::vector<std::unique_ptr<WorkloadAttestor>> list;
  list.push_back(std::make_unique<UnixAttestor>(proc));
  CompositeAttestor composite(proc, std::move(list));
  auto alive = composite.Attest(*info);
  REQUIRE(alive.ok());
  CHECK(Contains(*alive, "unix:uid:" + std::to_string(getuid())));

  REQUIRE(kill(child, SIGKILL) == 0);
  WaitForState(child, 'Z');
  // A fixture /proc that still shows the process alive: only the pidfd can tell.
  ProcFixture fx;
  fx.AddProcess(child, *info->start_time, "bin");
  fx.WriteStatus(child, getuid(), getgid(), "");
  // /proc may show the zombie a moment before the kernel reports the exit on the pidfd (seen
  // under load): the guard must fail within a short while, not necessarily at once.
  absl::Status stale = CheckProcessIdentity(fx.Proc(), *info);
  for (int i = 0; i < 1000 && !absl::IsFailedPrecondition(stale); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    stale = CheckProcessIdentity(fx.Proc(), *info);
  }
  REQUIRE_MESSAGE(absl::IsFailedPrecondition(stale), stale.ToString());
  CHECK(std::string(stale.message()).find("pidfd") != std::string::npos);
  CHECK(absl::IsFailedPrecondition(composite.Attest(*info).status()));
  CHECK(absl::IsFailedPrecondition(MakeProcessInfo(fx.Proc(), child, 0, 0, pidfd).status()));

  sleeper.KillAndReap();
  close(pidfd);
}
