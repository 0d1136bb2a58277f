#include "agent/attestor/executable_digest.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::StrCat;

constexpr size_t kReadChunk = 256 * 1024;

absl::Status ChangedWhileHashing(std::string_view name) {
  return absl::FailedPreconditionError(
      StrCat("executable ", name, " changed while it was being hashed"));
}

// SHA-256 of the first `size` bytes of `fd`; fails if the file turns out longer or shorter.
absl::StatusOr<std::string> HashFd(int fd, uint64_t size, std::string_view name) {
  SPINEL_ASSIGN_OR_RETURN(common::Sha256 sha, common::Sha256::Start());
  std::vector<char> buf(kReadChunk);
  uint64_t offset = 0;
  while (true) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::InternalError(StrCat("reading executable ", name, ": ", std::strerror(errno)));
    }
    if (n == 0) break;
    offset += static_cast<uint64_t>(n);
    if (offset > size) return ChangedWhileHashing(name);
    SPINEL_RETURN_IF_ERROR(sha.Update(std::string_view(buf.data(), static_cast<size_t>(n))));
  }
  if (offset != size) return ChangedWhileHashing(name);
  return sha.FinishHex();
}

}  // namespace

DigestCache::DigestCache(Options options)
    : options_(options),
      clock_(options.clock != nullptr ? *options.clock : common::SystemClock::Get()) {}

absl::StatusOr<DigestCache::Key> DigestCache::KeyOf(int fd, std::string_view name) {
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    return absl::InternalError(StrCat("fstat of executable ", name, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat("executable ", name, " is not a regular file"));
  }
  return Key{st.st_dev,          st.st_ino,         st.st_size,        st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
}

absl::StatusOr<std::string> DigestCache::Sha256Hex(int fd, std::string_view name) {
  absl::StatusOr<Key> key = KeyOf(fd, name);
  if (!key.ok()) return key.status();
  const uint64_t size = static_cast<uint64_t>(key->size);
  if (size > options_.max_file_bytes) {
    return absl::ResourceExhaustedError(
        StrCat("executable ", name, " is ", size, " bytes, over the hashing limit of ",
               options_.max_file_bytes, " bytes (DigestCache::Options::max_file_bytes)"));
  }
  {
    common::MutexLock lock(mu_);
    if (auto it = index_.find(*key); it != index_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second);  // now the most recently used
      ++stats_.hits;
      return it->second->second;
    }
    ++stats_.misses;
  }
  absl::StatusOr<std::string> digest = HashFd(fd, size, name);
  if (!digest.ok()) return digest.status();
  absl::StatusOr<Key> after = KeyOf(fd, name);
  if (!after.ok()) return after.status();
  if (*after != *key) return ChangedWhileHashing(name);
  Insert(*key, *digest);
  return digest;
}

void DigestCache::Insert(const Key& key, const std::string& digest) {
  if (options_.max_entries == 0) return;
  const common::TimePoint changed{std::chrono::duration_cast<common::Duration>(
      std::chrono::seconds(key.ctime_sec) + std::chrono::nanoseconds(key.ctime_nsec))};
  if (clock_.Now() - changed < options_.racy_window) return;
  common::MutexLock lock(mu_);
  if (index_.count(key) != 0) return;  // another thread hashed it meanwhile
  lru_.emplace_front(key, digest);
  index_[key] = lru_.begin();
  while (lru_.size() > options_.max_entries) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

DigestCache::Stats DigestCache::stats() const {
  common::MutexLock lock(mu_);
  Stats stats = stats_;
  stats.entries = lru_.size();
  return stats;
}

}  // namespace spinel::agent
