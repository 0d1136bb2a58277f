// JwtSvidCache: the JWT-SVIDs the Workload API hands out, cached per (entry, audience set) so
// that callers asking again get the same token instead of a new server round trip each time.
//
// Key: the entry id, its SPIFFE ID and revision (an updated entry gets fresh tokens) and the
// sorted, de-duplicated audience set (["b","a"] and ["a","b","a"] share a token; its "aud" is
// the set in sorted order). A cached token is reused while less than half its lifetime
// (issued_at .. expires_at) has passed at the injected clock's now; after that the next Get mints
// a new one through the JwtMinter. The cache holds at most `max_entries` tokens and evicts the
// least recently used one beyond that (tokens past half-life are dropped first).
//
// Concurrency: Get may be called from any thread. Minting happens outside the cache's lock, so
// slow mints for different keys proceed in parallel; two simultaneous Gets for the same
// uncached key may both mint (the later result replaces the earlier; both tokens are valid).
// Errors: whatever the minter returns (the token is not cached then). Tokens are secrets:
// nothing here logs them.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/identity_cache.h"
#include "agent/jwt_minter.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace spinel::agent {

class JwtSvidCache {
 public:
  static constexpr size_t kDefaultMaxEntries = 4096;

  // `minter` and `clock` must outlive the cache.
  JwtSvidCache(JwtMinter& minter, const common::Clock& clock,
               size_t max_entries = kDefaultMaxEntries);

  // A token for `entry` with `audience` (non-empty, no empty values: checked by the caller).
  absl::StatusOr<MintedJwtSvid> Get(const CachedEntry& entry,
                                    const std::vector<std::string>& audience);

  size_t size() const;
  // How many tokens were minted (cache misses); for tests and metrics.
  uint64_t mints() const;

 private:
  // (entry id, SPIFFE ID, revision, sorted audience set).
  using Key = std::tuple<std::string, std::string, int64_t, std::vector<std::string>>;
  struct Slot {
    MintedJwtSvid svid;
    std::list<Key>::iterator lru;  // position in lru_ (front = most recently used)
  };

  bool Fresh(const MintedJwtSvid& svid, common::TimePoint now) const;
  void InsertLocked(const Key& key, MintedJwtSvid svid, common::TimePoint now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void EvictLocked(common::TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  JwtMinter& minter_;
  const common::Clock& clock_;
  const size_t max_entries_;
  mutable common::Mutex mutex_;
  std::map<Key, Slot> slots_ ABSL_GUARDED_BY(mutex_);
  std::list<Key> lru_ ABSL_GUARDED_BY(mutex_);
  uint64_t mints_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace spinel::agent
