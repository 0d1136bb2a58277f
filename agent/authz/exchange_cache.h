// ExchangeCache: delegation tokens the agent's TokenExchange already obtained from the server,
// so a workload exchanging the same subject token again (same key, audience and requested
// lifetime) gets the token it already has without a server round trip.
//
// Key (ExchangeCacheKey): the SHA-256 of the length-prefixed subject token, caller SPIFFE ID,
// RFC 7638 thumbprint of the caller's WIT-SVID key (the token's cnf), audience and requested
// lifetime: a different key, audience or lifetime never shares a token. Keys hold no token.
// Value: the server's answer and when it was received.
//
// Freshness: Find returns an entry only while its remaining lifetime is at least half of its
// lifetime (expires_at - now >= (expires_at - received_at) / 2), so a caller always gets a
// token it can still use for a while; a stale entry is a miss and is dropped. Expired entries
// are evicted on every Insert. Bounded: at most `max_entries`; inserting into a full cache
// (after evicting the expired ones) evicts the entry that expires first.
//
// Thread-safety: every method may be called from any thread at once; one common::Mutex guards
// the maps and is never held across calls out. Find and Insert cost O(log n) plus evictions.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "agent.pb.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace spinel::agent {

inline constexpr size_t kDefaultExchangeCacheEntries = 1024;

// What a cached exchange is keyed on.
struct ExchangeCacheKeyParts {
  std::string_view subject_token;
  std::string_view caller;          // SPIFFE ID
  std::string_view key_thumbprint;  // of the caller's WIT-SVID cnf.jwk
  std::string_view audience;
  int64_t requested_ttl_seconds = 0;
};

absl::StatusOr<std::string> ExchangeCacheKey(const ExchangeCacheKeyParts& parts);

struct CachedExchange {
  spinel::v1::ExchangeTokenResponse response;  // token, expires_at, delegation
  common::TimePoint received_at;
  common::TimePoint expires_at;  // the token's exp
};

class ExchangeCache {
 public:
  explicit ExchangeCache(size_t max_entries = kDefaultExchangeCacheEntries);

  ExchangeCache(const ExchangeCache&) = delete;
  ExchangeCache& operator=(const ExchangeCache&) = delete;

  // The entry `key` when still fresh at `now` (see above); nullopt otherwise.
  std::optional<CachedExchange> Find(const std::string& key, common::TimePoint now);
  // Stores `value` under `key` (replacing an older one). Values already expired at `now`, or
  // not expiring after received_at, are not stored.
  void Insert(const std::string& key, CachedExchange value, common::TimePoint now);

  size_t size() const;
  size_t max_entries() const { return max_entries_; }

 private:
  void EraseLocked(const std::string& key) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictExpiredLocked(common::TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_entries_;
  mutable common::Mutex mu_;
  std::map<std::string, CachedExchange> entries_ ABSL_GUARDED_BY(mu_);
  std::multimap<common::TimePoint, std::string> by_expiry_ ABSL_GUARDED_BY(mu_);
};

}  // namespace spinel::agent
