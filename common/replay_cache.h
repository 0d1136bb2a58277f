// WptReplayCache: the bounded replay cache of Workload Proof Tokens (shared/spec/wimse.md §3.4),
// keyed by (WIT "sub", WPT "jti"). A key is remembered until its retention time (the WPT's
// "exp" plus the verifier's leeway: as long as the proof could still be accepted), then evicted.
//
// When full: the cache holds at most `max_entries` live keys. If a new key arrives while it is
// full (after evicting everything whose retention has passed), the proof is REFUSED
// (ResourceExhausted): forgetting a live jti would let that proof be replayed, so the cache
// fails closed (§3.4 "When the cache is full, fail closed"). Size it as the maximum WPT
// lifetime (plus leeway) times the peak request rate.
//
// Scope: one cache per receiving service instance. A cache that is not shared across replicas
// lets a replay reach another replica (§3.4 known weaknesses): share one per service, or pin
// senders to replicas.
//
// Thread-safety: every method may be called from any thread; one mutex guards the state and is
// never held across calls out. Each operation costs O(log n) plus the evictions it performs.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace spinel::common {

inline constexpr size_t kDefaultWptReplayCacheEntries = 100'000;
// Longest accepted jti; longer ones are refused so that entries stay small.
inline constexpr size_t kMaxWptJtiBytes = 256;

class WptReplayCache {
 public:
  explicit WptReplayCache(size_t max_entries = kDefaultWptReplayCacheEntries);

  WptReplayCache(const WptReplayCache&) = delete;
  WptReplayCache& operator=(const WptReplayCache&) = delete;

  // Records (subject, jti) until `retain_until`, first evicting every entry whose retention
  // has passed at `now`. Returns OK for a key not seen before; AlreadyExists "jti replayed"
  // when the key is still remembered; ResourceExhausted when the cache is full of live keys;
  // InvalidArgument when jti is empty or longer than kMaxWptJtiBytes, or `retain_until` is not
  // after `now`. Messages never contain the jti.
  absl::Status CheckAndRecord(std::string_view subject, std::string_view jti,
                              TimePoint retain_until, TimePoint now);

  // Live and not yet evicted entries.
  size_t size() const;
  size_t max_entries() const { return max_entries_; }

 private:
  using Key = std::pair<std::string, std::string>;  // (subject, jti)

  void EvictExpiredLocked(TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_entries_;
  mutable Mutex mu_;
  std::map<Key, TimePoint> retain_until_ ABSL_GUARDED_BY(mu_);
  std::multimap<TimePoint, Key> by_expiry_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spinel::common
