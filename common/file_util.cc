#include "common/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

absl::Status ErrnoError(std::string_view what, const std::string& path) {
  int err = errno;
  std::string message = StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  if (err == EACCES || err == EPERM || err == EROFS) return absl::PermissionDeniedError(message);
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

absl::Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("writing", path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status SyncDirectoryOf(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("opening directory", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return ErrnoError("syncing directory", dir);
  return absl::OkStatus();
}

// Reads the whole file straight into `out` (no intermediate buffer), sized from fstat so that a
// regular file is read without `out` growing: growing would leave a copy of the bytes read so
// far in freed memory, which matters for ReadSecretFile.
absl::Status ReadInto(const std::string& path, std::string& out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("opening", path);
  struct stat st {};
  size_t chunk = 16384;  // the step for files whose size fstat does not know (/proc)
  if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
    chunk = static_cast<size_t>(st.st_size) + 1;  // + 1: sees the end without growing
  }
  size_t used = 0;
  while (true) {
    if (used == out.size()) out.resize(used + chunk);
    ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = ErrnoError("reading", path);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(used);
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteFileAtomic(const std::string& path, std::string_view contents, unsigned mode) {
  std::string temp = path + ".tmp";
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return ErrnoError("creating", temp);
  ::fchmod(fd, mode);  // the umask may have narrowed or an old file kept other bits
  absl::Status status = WriteAll(fd, contents, temp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("syncing", temp);
  ::close(fd);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoError("renaming to", path);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  return SyncDirectoryOf(path);
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::string out;
  SPINEL_RETURN_IF_ERROR(ReadInto(path, out));
  return out;
}

absl::StatusOr<SecretData> ReadSecretFile(const std::string& path) {
  std::string out;
  absl::Status status = ReadInto(path, out);
  if (!status.ok()) {
    WipeSecret(out);  // whatever was read before the error
    return status;
  }
  return SecretData(std::move(out));
}

absl::Status MakeDirs(const std::string& path, unsigned mode) {
  std::error_code ec;
  std::filesystem::path p(path);
  std::filesystem::path built;
  for (const auto& part : p) {
    built /= part;
    if (std::filesystem::is_directory(built, ec)) continue;
    if (::mkdir(built.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoError("creating directory", built.string());
    }
  }
  return absl::OkStatus();
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace spinel::common
