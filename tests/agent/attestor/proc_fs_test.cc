#include "agent/attestor/proc_fs.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/agent/attestor/proc_fixture.h"

using spinel::agent::ParseProcStat;
using spinel::agent::ParseProcStatus;
using spinel::agent::ProcFs;
using spinel::agent::ProcIds;
using spinel::testing::ProcFixture;
using spinel::testing::StatLine;
using spinel::testing::StatusText;

TEST_CASE("ParseProcStat finds the fields after the LAST ')' of comm") {
  // A process may name itself anything, including ") (" and spaces, to confuse parsers.
  for (const std::string comm : {"app", "a) (b c", ") S 1 2 3 (", "x)", "two  spaces", ""}) {
    CAPTURE(comm);
    auto stat = ParseProcStat(StatLine(4242, comm, 'S', 987654321));
    REQUIRE(stat.ok());
    CHECK(stat->pid == 4242);
    CHECK(stat->comm == comm);
    CHECK(stat->state == 'S');
    CHECK(stat->start_time == 987654321);
  }
  auto zombie = ParseProcStat(StatLine(7, "z", 'Z', 5));
  REQUIRE(zombie.ok());
  CHECK(zombie->state == 'Z');
}

TEST_CASE("ParseProcStat rejects malformed content") {
  for (const std::string& bad :
       {std::string(""), std::string("4242 app S 1"), std::string("4242 (app) S 1 2 3"),
        std::string("x (app) S"), StatLine(1, "a", 'S', 5).replace(0, 1, "q"),
        std::string("4242 (app) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
                    "notanumber 1 1")}) {
    CAPTURE(bad);
    CHECK(absl::IsInvalidArgument(ParseProcStat(bad).status()));
  }
}

TEST_CASE("ParseProcStatus reads real/effective/saved/fs ids and supplementary groups") {
  std::string text =
      "Name:\tapp\nUid:\t1000\t0\t1001\t1002\nGid:\t2000\t2001\t2002\t2003\n"
      "Groups:\t4 24 27 \nVmRSS:\t 100 kB\n";
  auto status = ParseProcStatus(text);
  REQUIRE(status.ok());
  CHECK(status->uid == ProcIds{1000, 0, 1001, 1002});
  CHECK(status->gid == ProcIds{2000, 2001, 2002, 2003});
  CHECK(status->groups == std::vector<uint32_t>{4, 24, 27});

  auto no_groups = ParseProcStatus(StatusText(5, 6, ""));
  REQUIRE(no_groups.ok());
  CHECK(no_groups->groups.empty());

  CHECK(absl::IsInvalidArgument(ParseProcStatus("Name:\tapp\nGid:\t1\t1\t1\t1\n").status()));
  CHECK(absl::IsInvalidArgument(ParseProcStatus("Uid:\t1\t1\t1\nGid:\t1\t1\t1\t1\n").status()));
  CHECK(absl::IsInvalidArgument(ParseProcStatus(StatusText(1, 1, "4 x")).status()));
}

TEST_CASE("ProcFs reads a fixture tree") {
  ProcFixture fx;
  std::string binary = fx.AddProcess(4242, 777, "#!/bin/true\n");
  fx.WriteStat(4242, "we) (ird", 'R', 777);
  ProcFs proc = fx.Proc();

  auto stat = proc.ReadStat(4242);
  REQUIRE(stat.ok());
  CHECK(stat->start_time == 777);
  CHECK(stat->comm == "we) (ird");
  auto status = proc.ReadStatus(4242);
  REQUIRE(status.ok());
  CHECK(status->uid.effective == 1000);
  CHECK(status->groups == std::vector<uint32_t>{4, 27});
  CHECK(*proc.ReadExePath(4242) == binary);
  CHECK(*proc.ReadCgroup(4242) == "0::/user.slice/user-1000.slice/session-3.scope\n");

  auto fd = proc.OpenExe(4242);
  REQUIRE(fd.ok());
  char buf[64];
  ssize_t n = ::read(fd->get(), buf, sizeof(buf));
  CHECK(std::string(buf, n > 0 ? n : 0) == "#!/bin/true\n");
}

TEST_CASE("ProcFs: missing process is NotFound; stat of another pid is rejected") {
  ProcFixture fx;
  ProcFs proc = fx.Proc();
  CHECK(absl::IsNotFound(proc.ReadStat(99).status()));
  CHECK(absl::IsNotFound(proc.ReadStatus(99).status()));
  CHECK(absl::IsNotFound(proc.ReadExePath(99).status()));
  CHECK(absl::IsNotFound(proc.OpenExe(99).status()));
  CHECK(absl::IsNotFound(proc.ReadCgroup(99).status()));
  fx.Write(5, "stat", StatLine(6, "x", 'S', 1));
  auto stat = proc.ReadStat(5);
  CHECK(absl::IsInvalidArgument(stat.status()));
}

TEST_CASE("ProcFs::ReadExePath strips the kernel's \" (deleted)\" mark") {
  ProcFixture fx;
  fx.WriteStat(10, "app", 'S', 1);
  fx.LinkExe(10, "/opt/app/bin/server (deleted)");
  CHECK(*fx.Proc().ReadExePath(10) == "/opt/app/bin/server");
  fx.LinkExe(10, "relative/path");
  CHECK(absl::IsInvalidArgument(fx.Proc().ReadExePath(10).status()));
}

TEST_CASE("ProcFs calls the read hook before each read") {
  ProcFixture fx;
  fx.AddProcess(3, 1, "x");
  ProcFs proc = fx.Proc();
  std::vector<std::string> seen;
  proc.SetReadHookForTest([&](pid_t pid, std::string_view entry) {
    CHECK(pid == 3);
    seen.emplace_back(entry);
  });
  (void)proc.ReadStat(3);
  (void)proc.ReadStatus(3);
  (void)proc.ReadExePath(3);
  (void)proc.ReadCgroup(3);
  CHECK(seen == std::vector<std::string>{"stat", "status", "exe", "cgroup"});
}

TEST_CASE("ProcFs on the real /proc describes this test process") {
  ProcFs proc;
  auto first = proc.ReadStat(getpid());
  REQUIRE(first.ok());
  CHECK(first->pid == getpid());
  CHECK(first->start_time > 0);
  CHECK(first->state == 'R');
  CHECK(proc.ReadStat(getpid())->start_time == first->start_time);
  auto status = proc.ReadStatus(getpid());
  REQUIRE(status.ok());
  CHECK(status->uid.real == getuid());
  CHECK(status->uid.effective == geteuid());
  CHECK(status->gid.real == getgid());
  CHECK(*proc.ReadExePath(getpid()) == std::filesystem::read_symlink("/proc/self/exe").string());
  CHECK(proc.ReadCgroup(getpid()).ok());
}
