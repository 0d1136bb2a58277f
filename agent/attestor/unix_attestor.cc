#include "agent/attestor/unix_attestor.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::Quote;
using common::Selector;
using common::SelectorSet;
using common::StrCat;

constexpr size_t kInitialBuffer = 1024;
constexpr size_t kMaxBuffer = 1 << 20;

// Runs a getpwuid_r-style lookup, growing the buffer on ERANGE. `lookup(buf, size, &found)`
// returns the errno-style result and sets `found` to the name or leaves it null.
template <typename Lookup>
absl::StatusOr<std::optional<std::string>> NssLookup(std::string_view what, uint32_t id,
                                                     Lookup lookup) {
  for (size_t size = kInitialBuffer; size <= kMaxBuffer; size *= 2) {
    std::vector<char> buf(size);
    const char* name = nullptr;
    int rc = lookup(buf.data(), buf.size(), &name);
    if (rc == ERANGE) continue;
    // getpwuid_r(3): 0, ENOENT, ESRCH, EBADF and EPERM all may mean "no such id".
    if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
      if (name == nullptr) return std::nullopt;
      return std::optional<std::string>(name);
    }
    return absl::UnavailableError(StrCat("looking up ", what, " ", id, ": ", std::strerror(rc)));
  }
  return absl::ResourceExhaustedError(StrCat("looking up ", what, " ", id, ": entry too large"));
}

class SystemNames : public IdNameSource {
 public:
  absl::StatusOr<std::optional<std::string>> UserName(uid_t uid) const override {
    return NssLookup("uid", uid, [uid](char* buf, size_t size, const char** name) {
      passwd entry;
      passwd* result = nullptr;
      int rc = ::getpwuid_r(uid, &entry, buf, size, &result);
      if (rc == 0 && result != nullptr) *name = result->pw_name;
      return rc;
    });
  }
  absl::StatusOr<std::optional<std::string>> GroupName(gid_t gid) const override {
    return NssLookup("gid", gid, [gid](char* buf, size_t size, const char** name) {
      group entry;
      group* result = nullptr;
      int rc = ::getgrgid_r(gid, &entry, buf, size, &result);
      if (rc == 0 && result != nullptr) *name = result->gr_name;
      return rc;
    });
  }
};

// Appends unix:<kind>:<value>, or logs and skips it when `value` is not a valid selector value.
void Add(SelectorSet& out, std::string_view kind, std::string_view value) {
  absl::StatusOr<Selector> selector = Selector::Parse(StrCat("unix:", kind, ":", value));
  if (!selector.ok()) {
    LOG_WARN("unix attestor: value cannot be a selector; skipped",
             {{"kind", std::string(kind)}, {"value", std::string(value)}});
    return;
  }
  out.push_back(*std::move(selector));
}

// Appends unix:<kind>:<name> when the lookup found a name.
void AddName(SelectorSet& out, std::string_view kind, uint32_t id,
             const absl::StatusOr<std::optional<std::string>>& name) {
  if (!name.ok()) {
    LOG_WARN("unix attestor: name lookup failed; no name selector",
             {{"kind", std::string(kind)},
              {"id", std::to_string(id)},
              {"error", name.status().ToString()}});
    return;
  }
  if (name->has_value()) Add(out, kind, **name);
}

}  // namespace

std::shared_ptr<const IdNameSource> SystemIdNameSource() {
  static const std::shared_ptr<const IdNameSource> kSource = std::make_shared<SystemNames>();
  return kSource;
}

UnixAttestor::UnixAttestor(ProcFs proc, Options options)
    : proc_(std::move(proc)),
      workload_path_(options.workload_path),
      names_(options.names != nullptr ? std::move(options.names) : SystemIdNameSource()),
      digests_(options.digest) {}

absl::StatusOr<SelectorSet> UnixAttestor::Attest(const ProcessInfo& process) const {
  absl::StatusOr<ProcStatus> status = proc_.ReadStatus(process.pid);
  if (!status.ok()) return status.status();
  if (status->uid.effective != process.uid || status->gid.effective != process.gid) {
    return absl::FailedPreconditionError(StrCat(
        "process ", static_cast<int64_t>(process.pid),
        " changed credentials since connect: ", "effective uid/gid ", status->uid.effective, "/",
        status->gid.effective, " != ", process.uid, "/", process.gid, " from SO_PEERCRED"));
  }
  SelectorSet out;
  Add(out, "uid", std::to_string(process.uid));
  AddName(out, "user", process.uid, names_->UserName(process.uid));
  Add(out, "gid", std::to_string(process.gid));
  AddName(out, "group", process.gid, names_->GroupName(process.gid));
  for (uint32_t gid : status->groups) {
    Add(out, "supplementary_gid", std::to_string(gid));
    AddName(out, "supplementary_group", gid, names_->GroupName(gid));
  }
  if (workload_path_) {
    absl::Status executable = AddExecutable(process.pid, out);
    if (!executable.ok()) return executable;
  }
  return out;
}

absl::Status UnixAttestor::AddExecutable(pid_t pid, SelectorSet& out) const {
  absl::StatusOr<std::string> path = proc_.ReadExePath(pid);
  if (!path.ok()) return path.status();
  absl::StatusOr<ScopedFd> fd = proc_.OpenExe(pid);
  if (!fd.ok()) return fd.status();
  // An exec() between the readlink and the open would pair one binary's path with another's
  // digest; reading the link again after the open detects it.
  absl::StatusOr<std::string> path_after = proc_.ReadExePath(pid);
  if (!path_after.ok()) return path_after.status();
  if (*path_after != *path) {
    return absl::FailedPreconditionError(StrCat("executable of process ", static_cast<int64_t>(pid),
                                                " changed during attestation: ", Quote(*path),
                                                " then ", Quote(*path_after)));
  }
  absl::StatusOr<std::string> digest = digests_.Sha256Hex(fd->get(), *path);
  if (!digest.ok()) return digest.status();
  Add(out, "path", *path);
  Add(out, "sha256", *digest);
  return absl::OkStatus();
}

}  // namespace spinel::agent
