#include "agent/attestor/proc_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::Quote;
using common::StrCat;

// /proc files attestation reads are a few KiB at most; anything larger is not a /proc entry.
constexpr size_t kMaxEntryBytes = 1 << 20;
constexpr std::string_view kDeletedSuffix = " (deleted)";

absl::Status ErrnoStatus(int err, std::string_view what, const std::string& path) {
  std::string message = StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT || err == ESRCH) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM) return absl::PermissionDeniedError(message);
  return absl::InternalError(message);
}

std::vector<std::string_view> SplitWhitespace(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    size_t start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view text, T& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

absl::Status StatError(std::string_view content, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("malformed /proc stat ", Quote(content), ": ", why));
}

absl::StatusOr<ProcIds> ParseIds(std::string_view key, std::string_view values) {
  std::vector<std::string_view> fields = SplitWhitespace(values);
  uint32_t ids[4];
  if (fields.size() != 4) {
    return absl::InvalidArgumentError(
        StrCat("malformed /proc status: ", key, " needs 4 ids, got ", Quote(values)));
  }
  for (size_t i = 0; i < 4; ++i) {
    if (!ParseNumber(fields[i], ids[i])) {
      return absl::InvalidArgumentError(
          StrCat("malformed /proc status: ", key, " id ", Quote(fields[i])));
    }
  }
  return ProcIds{ids[0], ids[1], ids[2], ids[3]};
}

}  // namespace

ScopedFd::~ScopedFd() {
  if (fd_ >= 0) ::close(fd_);
}

ScopedFd& ScopedFd::operator=(ScopedFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.Release();
  }
  return *this;
}

int ScopedFd::Release() {
  int fd = fd_;
  fd_ = -1;
  return fd;
}

absl::StatusOr<ProcStat> ParseProcStat(std::string_view content) {
  size_t open = content.find('(');
  size_t close = content.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return StatError(content, "no (comm)");
  }
  ProcStat stat;
  std::string_view pid_text = content.substr(0, open);
  if (pid_text.empty() || pid_text.back() != ' ' ||
      !ParseNumber(pid_text.substr(0, pid_text.size() - 1), stat.pid)) {
    return StatError(content, "bad pid (field 1)");
  }
  stat.comm = std::string(content.substr(open + 1, close - open - 1));
  // Fields 3.. follow the last ')': field N is rest[N - 3].
  std::vector<std::string_view> rest = SplitWhitespace(content.substr(close + 1));
  if (rest.size() < 20) return StatError(content, "fewer than 22 fields");
  if (rest[0].size() != 1) return StatError(content, "bad state (field 3)");
  stat.state = rest[0][0];
  if (!ParseNumber(rest[19], stat.start_time)) {
    return StatError(content, "bad starttime (field 22)");
  }
  return stat;
}

absl::StatusOr<ProcStatus> ParseProcStatus(std::string_view content) {
  ProcStatus status;
  bool have_uid = false;
  bool have_gid = false;
  while (!content.empty()) {
    size_t eol = content.find('\n');
    std::string_view line = content.substr(0, eol);
    content = eol == std::string_view::npos ? std::string_view() : content.substr(eol + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view values = line.substr(colon + 1);
    if (key == "Uid" || key == "Gid") {
      absl::StatusOr<ProcIds> ids = ParseIds(key, values);
      if (!ids.ok()) return ids.status();
      (key == "Uid" ? status.uid : status.gid) = *ids;
      (key == "Uid" ? have_uid : have_gid) = true;
    } else if (key == "Groups") {
      for (std::string_view field : SplitWhitespace(values)) {
        uint32_t gid = 0;
        if (!ParseNumber(field, gid)) {
          return absl::InvalidArgumentError(
              StrCat("malformed /proc status: Groups entry ", Quote(field)));
        }
        status.groups.push_back(gid);
      }
    }
  }
  if (!have_uid || !have_gid) {
    return absl::InvalidArgumentError("malformed /proc status: no Uid: or Gid: line");
  }
  return status;
}

ProcFs::ProcFs(std::string root) : root_(std::move(root)) {}

std::string ProcFs::PathOf(pid_t pid, std::string_view entry) const {
  return StrCat(root_, "/", static_cast<int64_t>(pid), "/", entry);
}

void ProcFs::RunHook(pid_t pid, std::string_view entry) const {
  if (hook_) hook_(pid, entry);
}

absl::StatusOr<std::string> ProcFs::ReadEntry(pid_t pid, std::string_view entry) const {
  RunHook(pid, entry);
  const std::string path = PathOf(pid, entry);
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "opening", path);
  std::string content;
  char buf[4096];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "reading", path);
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
    if (content.size() > kMaxEntryBytes) {
      return absl::InvalidArgumentError(StrCat(path, " is larger than ", kMaxEntryBytes));
    }
  }
  return content;
}

absl::StatusOr<ProcStat> ProcFs::ReadStat(pid_t pid) const {
  absl::StatusOr<std::string> content = ReadEntry(pid, "stat");
  if (!content.ok()) return content.status();
  absl::StatusOr<ProcStat> stat = ParseProcStat(*content);
  if (stat.ok() && stat->pid != pid) {
    return absl::InvalidArgumentError(
        StrCat(PathOf(pid, "stat"), " describes pid ", static_cast<int64_t>(stat->pid)));
  }
  return stat;
}

absl::StatusOr<ProcStatus> ProcFs::ReadStatus(pid_t pid) const {
  absl::StatusOr<std::string> content = ReadEntry(pid, "status");
  if (!content.ok()) return content.status();
  return ParseProcStatus(*content);
}

absl::StatusOr<std::string> ProcFs::ReadExePath(pid_t pid) const {
  RunHook(pid, "exe");
  const std::string path = PathOf(pid, "exe");
  std::string target(4096, '\0');
  ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
  if (n < 0) return ErrnoStatus(errno, "reading link", path);
  if (static_cast<size_t>(n) >= target.size()) {
    return absl::InvalidArgumentError(StrCat("link target of ", path, " is too long"));
  }
  target.resize(static_cast<size_t>(n));
  if (target.size() > kDeletedSuffix.size() && target.ends_with(kDeletedSuffix)) {
    target.resize(target.size() - kDeletedSuffix.size());
  }
  if (target.empty() || target[0] != '/') {
    return absl::InvalidArgumentError(
        StrCat("link target of ", path, " is not an absolute path: ", Quote(target)));
  }
  return target;
}

absl::StatusOr<std::string> ProcFs::ReadCgroup(pid_t pid) const { return ReadEntry(pid, "cgroup"); }

absl::StatusOr<ScopedFd> ProcFs::OpenExe(pid_t pid) const {
  RunHook(pid, "exe");
  const std::string path = PathOf(pid, "exe");
  ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "opening", path);
  return fd;
}

}  // namespace spinel::agent
