// Test helpers for workload attestation: a fixture /proc tree in a temp dir, a map-backed
// IdNameSource, and an independent SHA-256 (the sha256sum program).
#pragma once

#include <doctest/doctest.h>
#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "agent/attestor/proc_fs.h"
#include "agent/attestor/unix_attestor.h"
#include "tests/fakes/temp_dir.h"

namespace spinel::testing {

// A /proc/<pid>/stat line with 52 fields; comm is written as is between the parentheses.
inline std::string StatLine(pid_t pid, const std::string& comm, char state, uint64_t start) {
  return std::to_string(pid) + " (" + comm + ") " + state +
         " 1 4242 4242 0 -1 4194560 1031 0 0 0 2 1 0 0 20 0 1 0 " + std::to_string(start) +
         " 11034624 1312 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0"
         " 0 0\n";
}

inline std::string StatusText(uint32_t uid, uint32_t gid, const std::string& groups) {
  auto ids = [](uint32_t id) {
    std::string s = std::to_string(id);
    return s + "\t" + s + "\t" + s + "\t" + s + "\n";
  };
  return "Name:\tapp\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t4242\nPid:\t4242\n"
         "PPid:\t1\nUid:\t" +
         ids(uid) + "Gid:\t" + ids(gid) + "FDSize:\t64\nGroups:\t" + groups +
         "\nNSpid:\t4242\nVmPeak:\t  10000 kB\n";
}

// <root>/<pid>/{stat,status,cgroup,exe}; exe is a symlink to a real file under <root>/bin.
class ProcFixture {
 public:
  const std::string& root() const { return dir_.path(); }
  agent::ProcFs Proc() const { return agent::ProcFs(root()); }

  void WriteStat(pid_t pid, const std::string& comm, char state, uint64_t start) const {
    Write(pid, "stat", StatLine(pid, comm, state, start));
  }
  void WriteStatus(pid_t pid, uint32_t uid, uint32_t gid, const std::string& groups) const {
    Write(pid, "status", StatusText(uid, gid, groups));
  }
  void WriteCgroup(pid_t pid, const std::string& content) const { Write(pid, "cgroup", content); }
  // Writes <root>/bin/<name> with `content` and points <root>/<pid>/exe at it; returns its path.
  std::string WriteExe(pid_t pid, const std::string& name, const std::string& content) const {
    std::filesystem::create_directories(root() + "/bin");
    const std::string binary = root() + "/bin/" + name;
    dir_.Write("bin/" + name, content);
    LinkExe(pid, binary);
    return binary;
  }
  void LinkExe(pid_t pid, const std::string& target) const {
    const std::string link = PidDir(pid) + "/exe";
    std::filesystem::remove(link);
    std::filesystem::create_symlink(target, link);
  }
  // A complete, ordinary process: uid/gid 1000, groups 4 27, not in a container.
  std::string AddProcess(pid_t pid, uint64_t start, const std::string& exe_content) const {
    WriteStat(pid, "app", 'S', start);
    WriteStatus(pid, 1000, 1000, "4 27 ");
    WriteCgroup(pid, "0::/user.slice/user-1000.slice/session-3.scope\n");
    return WriteExe(pid, "app", exe_content);
  }
  void Write(pid_t pid, const std::string& entry, const std::string& content) const {
    std::filesystem::create_directories(PidDir(pid));
    dir_.Write(std::to_string(pid) + "/" + entry, content);
  }
  std::string PidDir(pid_t pid) const { return root() + "/" + std::to_string(pid); }

 private:
  TempDir dir_;
};

// Names from maps; ids listed in `failing` make the lookup fail.
class MapIdNames : public agent::IdNameSource {
 public:
  std::map<uint32_t, std::string> users, groups;
  std::vector<uint32_t> failing;

  absl::StatusOr<std::optional<std::string>> UserName(uid_t uid) const override {
    return Find(users, uid);
  }
  absl::StatusOr<std::optional<std::string>> GroupName(gid_t gid) const override {
    return Find(groups, gid);
  }

 private:
  absl::StatusOr<std::optional<std::string>> Find(const std::map<uint32_t, std::string>& names,
                                                  uint32_t id) const {
    for (uint32_t f : failing) {
      if (f == id) return absl::UnavailableError("directory service down");
    }
    auto it = names.find(id);
    if (it == names.end()) return std::nullopt;
    return std::optional<std::string>(it->second);
  }
};

// SHA-256 of `path` as computed by the sha256sum program (not our code).
inline std::string Sha256Sum(const std::string& path) {
  TempDir scratch;
  RunResult r = Run(scratch, "sha256sum '" + path + "'");
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.output.size() >= 64);
  return r.output.substr(0, 64);
}

// The selectors as "type:value" strings, for readable comparisons.
inline std::vector<std::string> Strings(const common::SelectorSet& selectors) {
  std::vector<std::string> out;
  for (const common::Selector& s : selectors) out.push_back(s.ToString());
  return out;
}

}  // namespace spinel::testing
