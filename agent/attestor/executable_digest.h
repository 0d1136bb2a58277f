// DigestCache: SHA-256 of executables, cached so that attesting many connections of the same
// binary hashes it once.
//
// Entries are keyed by the identity of the opened file as fstat() reports it: device, inode,
// size, mtime and ctime (nanoseconds). Replacing a binary (new inode) or writing to it (size,
// mtime and ctime change) produces a new key; ctime is in the key because, unlike mtime, an
// unprivileged owner cannot set it back with utimes(). The file is fstat()ed again after hashing
// and the digest is neither cached nor returned if it changed meanwhile.
//
// Timestamps have coarse granularity (a scheduler tick on local filesystems, up to seconds on
// some network ones), so a same-size rewrite right after a modification could keep every key
// field. As git does for its index ("racy git"), a digest is therefore only cached once the
// file's ctime is at least `racy_window` older than the clock; a fresh file is hashed each time.
//
// The cache holds at most `max_entries` digests and evicts the least recently used. Files larger
// than `max_file_bytes` are refused (ResourceExhausted) before any byte is read.
//
// Thread-safe: any number of threads may call Sha256Hex concurrently. The lock is not held while
// hashing, so two threads may hash the same new file at once; both get the same digest.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <compare>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace spinel::agent {

class DigestCache {
 public:
  struct Options {
    uint64_t max_file_bytes = uint64_t{1} << 30;  // 1 GiB
    size_t max_entries = 256;                     // 0 disables caching
    common::Duration racy_window = std::chrono::seconds(2);
    // Borrowed, must outlive the cache; null means common::SystemClock::Get().
    const common::Clock* clock = nullptr;
  };

  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    size_t entries = 0;
  };

  DigestCache() : DigestCache(Options()) {}
  explicit DigestCache(Options options);
  DigestCache(const DigestCache&) = delete;
  DigestCache& operator=(const DigestCache&) = delete;

  // Lower-case hex SHA-256 of the regular file open at `fd` (borrowed; read with pread from
  // offset 0, so the descriptor's offset is not used). `name` only appears in error messages.
  // Errors: ResourceExhausted over the size limit; FailedPrecondition when `fd` is not a regular
  // file or the file changed while being hashed; Internal for I/O and OpenSSL failures.
  absl::StatusOr<std::string> Sha256Hex(int fd, std::string_view name);

  Stats stats() const;
  const Options& options() const { return options_; }

 private:
  struct Key {
    dev_t device;
    ino_t inode;
    off_t size;
    int64_t mtime_sec, mtime_nsec;
    int64_t ctime_sec, ctime_nsec;
    auto operator<=>(const Key&) const = default;
  };
  using Lru = std::list<std::pair<Key, std::string>>;  // most recently used first

  // fstat() identity of the regular file open at `fd`.
  static absl::StatusOr<Key> KeyOf(int fd, std::string_view name);
  // Caches `digest` unless the file changed too recently (see racy_window).
  void Insert(const Key& key, const std::string& digest);

  const Options options_;
  const common::Clock& clock_;
  mutable common::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);
  std::map<Key, Lru::iterator> index_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spinel::agent
