// VerifiedSignatureCache: JWS signatures already verified, so a token presented again and again
// (a WIT-SVID on every request of a workload, a delegation token for a whole MCP session) costs
// a SHA-256 instead of a public-key verification. Each request's Workload Proof Token is new and
// is always verified in full.
//
// Key: SHA-256 over the algorithm, the verifying key (SubjectPublicKeyInfo DER), the signing
// input and the signature. Only successful verifications are stored. A hit therefore means "this
// exact signature over this exact input verified with this exact key" — a fact that never stops
// being true — so the cache needs no invalidation: validators still look the key up in the
// current bundles first (a removed or rotated key is never reached) and still check every claim
// (exp, aud, cnf, ...) on every call.
//
// Bounded: at most `capacity` entries; when full, the oldest entry is dropped.
// Thread-safe: one mutex, never held while verifying.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/jws.h"
#include "common/keys.h"
#include "common/mutex.h"

namespace spinel::common {

inline constexpr size_t kDefaultVerifiedSignatureCacheEntries = 8192;

class VerifiedSignatureCache {
 public:
  struct Stats {
    uint64_t hits = 0;
    uint64_t misses = 0;
    size_t size = 0;
  };

  explicit VerifiedSignatureCache(size_t capacity = kDefaultVerifiedSignatureCacheEntries);

  // VerifyJwsSignature(alg, key, signing_input, signature), answered from the cache when the
  // same four verified before.
  absl::Status Verify(JwsAlgorithm alg, const PublicKey& key, std::string_view signing_input,
                      std::string_view signature);

  Stats stats() const;

 private:
  const size_t capacity_;
  mutable Mutex mutex_;
  std::unordered_set<std::string> verified_ ABSL_GUARDED_BY(mutex_);
  std::deque<std::string> order_ ABSL_GUARDED_BY(mutex_);  // oldest first
  uint64_t hits_ ABSL_GUARDED_BY(mutex_) = 0;
  uint64_t misses_ ABSL_GUARDED_BY(mutex_) = 0;
};

// `cache`->Verify when a cache is given, else VerifyJwsSignature.
absl::Status VerifyJwsSignature(VerifiedSignatureCache* cache, JwsAlgorithm alg,
                                const PublicKey& key, std::string_view signing_input,
                                std::string_view signature);

}  // namespace spinel::common
