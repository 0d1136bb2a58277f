// SubjectProofCache: subjects the Authorization API has already proved, so a caller presenting
// the same JWT-SVID (for the same audience) or the same X509-SVID chain again is not
// re-verified (an ECDSA verify, or DER parsing and chain building, per call).
//
// Key: the SHA-256 of the proof — kind, audience and token for a JWT-SVID; the DER
// certificates, length-prefixed, for an X.509 chain (SubjectProofKey* below).
// Value: the proved subject, when it was proved and until when the proof holds (the token's
// exp; the earliest notAfter of the verified chain).
//
// Validity of a hit:
//  - only successful proofs are stored; a lookup at a time before the proof or at or after
//    its end is a miss (and drops the entry), so an expired SVID goes back to full validation,
//    which refuses it;
//  - entries are bound to the bundles they were proved under: every call passes the snapshot
//    it decides on, and when that snapshot's bundles differ from the ones the entries were
//    proved under (any authority or jwt-svid key of any trust domain added, removed or
//    replaced), the whole cache is emptied first. A removed key or authority therefore stops
//    validating at once. The bundle comparison runs only when the snapshot generation changes,
//    so every snapshot passed must come from the same IdentityCache (whose generations name
//    distinct contents).
// Bounded: at most `capacity` entries, least recently used evicted first.
// Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"
#include "agent/authz/subject_proof.h"
#include "agent/identity_cache.h"
#include "authorization.pb.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace spinel::agent {

inline constexpr size_t kDefaultSubjectProofCacheCapacity = 4096;

// The cache key of a JWT-SVID proof for `audience`, and of an X.509 chain proof.
absl::StatusOr<std::string> SubjectProofKeyJwt(std::string_view audience, std::string_view token);
absl::StatusOr<std::string> SubjectProofKeyX509(const spinel::v1::X509SvidChain& chain);

class SubjectProofCache {
 public:
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    uint64_t invalidations = 0;  // times the cache was emptied for a bundle change
    size_t size = 0;
  };

  explicit SubjectProofCache(size_t capacity = kDefaultSubjectProofCacheCapacity);

  // The subject proved under `snapshot`'s bundles for `key`, if it still holds at `now`.
  std::optional<ProvedSubject> Find(const std::string& key, const CacheSnapshot& snapshot,
                                    common::TimePoint now);
  // Stores a proof made under `snapshot`'s bundles at `proved_at`, valid until `valid_until`.
  void Insert(const std::string& key, const CacheSnapshot& snapshot, ProvedSubject subject,
              common::TimePoint proved_at, common::TimePoint valid_until);

  Stats stats() const;

 private:
  struct Entry {
    std::string key;
    ProvedSubject subject;
    common::TimePoint proved_at;
    common::TimePoint valid_until;
  };
  using Lru = std::list<Entry>;  // most recently used first

  // Empties the cache when `snapshot`'s bundles are not the ones the entries were proved
  // under, and remembers them.
  void SyncBundlesLocked(const CacheSnapshot& snapshot) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void EraseLocked(Lru::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const size_t capacity_;
  mutable common::Mutex mutex_;
  Lru lru_ ABSL_GUARDED_BY(mutex_);
  std::unordered_map<std::string, Lru::iterator> index_ ABSL_GUARDED_BY(mutex_);
  std::map<common::TrustDomain, common::Bundle> bundles_ ABSL_GUARDED_BY(mutex_);
  std::optional<uint64_t> synced_generation_ ABSL_GUARDED_BY(mutex_);
  Stats stats_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace spinel::agent
