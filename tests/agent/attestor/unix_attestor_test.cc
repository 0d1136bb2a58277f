#include "agent/attestor/unix_attestor.h"

#include <doctest/doctest.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/agent/attestor/proc_fixture.h"

using spinel::agent::MakeProcessInfo;
using spinel::agent::ProcessInfo;
using spinel::agent::ProcFs;
using spinel::agent::SystemIdNameSource;
using spinel::agent::UnixAttestor;
using spinel::testing::MapIdNames;
using spinel::testing::ProcFixture;
using spinel::testing::Sha256Sum;
using spinel::testing::Strings;

namespace {

std::shared_ptr<MapIdNames> Names() {
  auto names = std::make_shared<MapIdNames>();
  names->users = {{1000, "alice"}};
  names->groups = {{1000, "alice"}, {4, "adm"}};  // 27 has no name
  return names;
}

UnixAttestor::Options WithNames(std::shared_ptr<MapIdNames> names) {
  UnixAttestor::Options options;
  options.names = std::move(names);
  return options;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

const ProcessInfo kProcess{.pid = 4242, .uid = 1000, .gid = 1000, .start_time = 777};

}  // namespace

TEST_CASE("UnixAttestor: every unix selector from a fixture process") {
  ProcFixture fx;
  std::string binary = fx.AddProcess(4242, 777,
                                     "\x7f"
                                     "ELF pretend binary");
  UnixAttestor attestor(fx.Proc(), WithNames(Names()));
  auto selectors = attestor.Attest(kProcess);
  REQUIRE(selectors.ok());
  spinel::common::Normalize(*selectors);
  std::vector<std::string> expected = {
      "unix:gid:1000",
      "unix:group:alice",
      "unix:path:" + binary,
      "unix:sha256:" + Sha256Sum(binary),
      "unix:supplementary_gid:27",
      "unix:supplementary_gid:4",
      "unix:supplementary_group:adm",
      "unix:uid:1000",
      "unix:user:alice",
  };
  CHECK(Strings(*selectors) == expected);
}

TEST_CASE("UnixAttestor: ids without names get no name selectors; failed lookups neither") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, "bin");
  auto names = Names();
  names->users.clear();
  names->failing = {4};
  UnixAttestor attestor(fx.Proc(), WithNames(names));
  auto selectors = attestor.Attest(kProcess);
  REQUIRE(selectors.ok());
  std::vector<std::string> got = Strings(*selectors);
  CHECK(Contains(got, "unix:uid:1000"));
  CHECK(Contains(got, "unix:supplementary_gid:4"));
  CHECK_FALSE(std::any_of(got.begin(), got.end(), [](const std::string& s) {
    return s.starts_with("unix:user:") || s == "unix:supplementary_group:adm";
  }));
}

TEST_CASE("UnixAttestor: credentials changed since connect fail the attestor") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, "bin");
  fx.WriteStatus(4242, 0, 1000, "");  // e.g. exec'd a setuid-root binary after connecting
  UnixAttestor attestor(fx.Proc(), WithNames(Names()));
  auto selectors = attestor.Attest(kProcess);
  REQUIRE(absl::IsFailedPrecondition(selectors.status()));
  CHECK(std::string(selectors.status().message()).find("changed credentials") != std::string::npos);
}

TEST_CASE("UnixAttestor: without workload_path no executable is read") {
  ProcFixture fx;
  fx.WriteStat(4242, "app", 'S', 777);
  fx.WriteStatus(4242, 1000, 1000, "");
  UnixAttestor::Options options = WithNames(Names());
  options.workload_path = false;
  auto selectors = UnixAttestor(fx.Proc(), options).Attest(kProcess);
  REQUIRE(selectors.ok());
  CHECK(Strings(*selectors) == std::vector<std::string>{"unix:uid:1000", "unix:user:alice",
                                                        "unix:gid:1000", "unix:group:alice"});
  // With it, the missing exe is an error.
  CHECK(absl::IsNotFound(UnixAttestor(fx.Proc(), WithNames(Names())).Attest(kProcess).status()));
}

TEST_CASE("UnixAttestor: a path that cannot be a selector value is skipped, the digest kept") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, "bin");
  std::string binary = fx.WriteExe(4242, "my app", "spaced");
  auto selectors = UnixAttestor(fx.Proc(), WithNames(Names())).Attest(kProcess);
  REQUIRE(selectors.ok());
  std::vector<std::string> got = Strings(*selectors);
  CHECK(Contains(got, "unix:sha256:" + Sha256Sum(binary)));
  CHECK_FALSE(std::any_of(got.begin(), got.end(),
                          [](const std::string& s) { return s.starts_with("unix:path:"); }));
}

TEST_CASE("UnixAttestor: an executable over the size limit fails with a clear error") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, std::string(100, 'x'));
  UnixAttestor::Options options = WithNames(Names());
  options.digest.max_file_bytes = 64;
  auto selectors = UnixAttestor(fx.Proc(), options).Attest(kProcess);
  REQUIRE(absl::IsResourceExhausted(selectors.status()));
  CHECK(std::string(selectors.status().message()).find("over the hashing limit of 64 bytes") !=
        std::string::npos);
}

TEST_CASE("UnixAttestor: the executable changing between readlink and open is an error") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, "one");
  std::string other = fx.root() + "/bin/other";
  std::filesystem::copy_file(fx.root() + "/bin/app", other);
  ProcFs proc = fx.Proc();
  int exe_reads = 0;
  proc.SetReadHookForTest([&](pid_t, std::string_view entry) {
    if (entry == "exe" && ++exe_reads == 2) fx.LinkExe(4242, other);  // exec() after readlink
  });
  auto selectors = UnixAttestor(proc, WithNames(Names())).Attest(kProcess);
  REQUIRE(absl::IsFailedPrecondition(selectors.status()));
  CHECK(std::string(selectors.status().message()).find("changed during attestation") !=
        std::string::npos);
}

TEST_CASE("UnixAttestor: repeated attestation of one binary hashes it once") {
  ProcFixture fx;
  fx.AddProcess(4242, 777, "bin");
  fx.AddProcess(4343, 778, "bin");
  fx.LinkExe(4343, fx.root() + "/bin/app");
  UnixAttestor::Options options = WithNames(Names());
  options.digest.racy_window = std::chrono::seconds(-3600);  // the file was just written
  UnixAttestor attestor(fx.Proc(), options);
  REQUIRE(attestor.Attest(kProcess).ok());
  REQUIRE(attestor.Attest({.pid = 4343, .uid = 1000, .gid = 1000, .start_time = 778}).ok());
  REQUIRE(attestor.Attest(kProcess).ok());
  CHECK(attestor.digest_stats().misses == 1);
  CHECK(attestor.digest_stats().hits == 2);
}

TEST_CASE("UnixAttestor on the real /proc: this test process") {
  ProcFs proc;
  auto process = MakeProcessInfo(proc, getpid(), getuid(), getgid());
  REQUIRE(process.ok());
  auto selectors = UnixAttestor(proc).Attest(*process);
  REQUIRE(selectors.ok());
  std::vector<std::string> got = Strings(*selectors);
  CAPTURE(got.size());
  std::string exe = std::filesystem::read_symlink("/proc/self/exe").string();
  CHECK(Contains(got, "unix:uid:" + std::to_string(getuid())));
  CHECK(Contains(got, "unix:gid:" + std::to_string(getgid())));
  CHECK(Contains(got, "unix:path:" + exe));
  CHECK(Contains(got, "unix:sha256:" + Sha256Sum(exe)));
  if (passwd* pw = getpwuid(getuid()); pw != nullptr) {
    CHECK(Contains(got, std::string("unix:user:") + pw->pw_name));
  }
}

TEST_CASE("SystemIdNameSource resolves through NSS") {
  auto names = SystemIdNameSource();
  CHECK(names->UserName(0)->value_or("") == "root");
  CHECK(names->GroupName(0)->value_or("") == "root");
  auto nobody = names->UserName(3999999999u);
  REQUIRE(nobody.ok());
  CHECK_FALSE(nobody->has_value());
}
