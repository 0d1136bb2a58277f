// UnixAttestor: selectors from the process's unix credentials and executable.
//
//   unix:uid:<n>                    effective uid at connect() (SO_PEERCRED)
//   unix:user:<name>                its user name, when it has one
//   unix:gid:<n>                    effective gid at connect() (SO_PEERCRED)
//   unix:group:<name>               its group name, when it has one
//   unix:supplementary_gid:<n>      each supplementary group ("Groups:" of /proc/<pid>/status)
//   unix:supplementary_group:<name> ... and its name, when it has one
//   unix:path:<absolute path>       the executable (/proc/<pid>/exe, " (deleted)" removed)
//   unix:sha256:<64 lower-case hex> SHA-256 of the running executable
//
// The last two are produced only with Options::workload_path (the default). The digest is of the
// file opened through /proc/<pid>/exe, i.e. the binary the process runs, even if its path has
// since been replaced or unlinked; digests are cached (see executable_digest.h).
//
// The uid and gid come from SO_PEERCRED, which the kernel captured at connect(). Attest fails
// (FailedPrecondition) when /proc/<pid>/status shows another effective uid or gid: the process
// changed credentials (e.g. exec'd a setuid binary) after connecting, and its executable and
// groups no longer describe the identity that connected.
//
// Names are looked up through an IdNameSource: by default the system's NSS (getpwuid_r and
// getgrgid_r, so LDAP/sssd users resolve as `id` shows them), in tests a fake. Looking up names
// through NSS rather than parsing <root>/../etc/passwd keeps fixture trees to /proc only and
// gives the answers every other tool on the host gives. An id without a name gets no name
// selector; a failed lookup is logged and also gets none (selectors only ever grant, so fewer
// is safe). A name or path that is not a valid selector value (spaces, non-ASCII) is logged and
// skipped, as no registration entry could name it.
//
// Errors: the ProcFs errors (e.g. PermissionDenied reading another user's /proc/<pid>/exe when
// the agent lacks CAP_SYS_PTRACE), the DigestCache errors (ResourceExhausted over the size
// limit), FailedPrecondition when the credentials or the executable changed during attestation.
// Thread-safe.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "agent/attestor/executable_digest.h"
#include "agent/attestor/proc_fs.h"
#include "agent/attestor/workload_attestor.h"

namespace spinel::agent {

// Resolves user and group ids to names. Implementations must be thread-safe.
class IdNameSource {
 public:
  virtual ~IdNameSource() = default;
  // The name of `uid`, nullopt when it has none; an error when the lookup itself failed.
  virtual absl::StatusOr<std::optional<std::string>> UserName(uid_t uid) const = 0;
  virtual absl::StatusOr<std::optional<std::string>> GroupName(gid_t gid) const = 0;
};

// getpwuid_r / getgrgid_r. Shared, stateless.
std::shared_ptr<const IdNameSource> SystemIdNameSource();

class UnixAttestor : public WorkloadAttestor {
 public:
  struct Options {
    // Produce unix:path and unix:sha256 (reads /proc/<pid>/exe).
    bool workload_path = true;
    DigestCache::Options digest;
    // Null: SystemIdNameSource().
    std::shared_ptr<const IdNameSource> names;
  };

  explicit UnixAttestor(ProcFs proc) : UnixAttestor(std::move(proc), Options()) {}
  UnixAttestor(ProcFs proc, Options options);

  std::string_view name() const override { return "unix"; }
  absl::StatusOr<common::SelectorSet> Attest(const ProcessInfo& process) const override;

  DigestCache::Stats digest_stats() const { return digests_.stats(); }

 private:
  // Appends unix:path and unix:sha256.
  absl::Status AddExecutable(pid_t pid, common::SelectorSet& out) const;

  const ProcFs proc_;
  const bool workload_path_;
  const std::shared_ptr<const IdNameSource> names_;
  mutable DigestCache digests_;  // thread-safe itself
};

}  // namespace spinel::agent
