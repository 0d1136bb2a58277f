// WitRotator: keeps a WIT-SVID for every cache entry whose workload asked for one
// (CachedEntry::wit_wanted). For each WIT-SVID it generates a fresh key pair on the node
// (ECDSA P-256, cnf.jwk.alg ES256: a new key for every WIT, shared/spec/wimse.md §1.5 [S]),
// sends only the public JWK to the server (WitMinter) and stores the token with the private
// JWK in the IdentityCache, whose publish makes the Workload API push it on open FetchWITSVID
// streams. A WIT-SVID is renewed at about half its lifetime (RenewalTime: +-10% jitter; the
// lifetime counts from when it was requested), at once when its entry changes SPIFFE ID, and
// expired ones are dropped by the cache (IdentityCache::DropExpired, also run here) so they
// are never served. A refused or failed mint is retried after kWitRetryDelay.
//
// RunOnce() is one pass (tests call it with a fake clock); Start() runs passes on a background
// thread, woken whenever the cache changes (a workload asked for a WIT-SVID). Thread-safe.
#pragma once

#include <map>
#include <thread>

#include "agent/identity_cache.h"
#include "agent/wit_minter.h"
#include "common/mutex.h"

namespace spinel::agent {

inline constexpr auto kWitRetryDelay = std::chrono::seconds(5);

class WitRotator {
 public:
  WitRotator(IdentityCache& cache, WitMinter& minter, const common::Clock& clock, int batch_size)
      : cache_(cache), minter_(minter), clock_(clock), batch_size_(batch_size) {}
  ~WitRotator();

  struct PassResult {
    int renewed = 0;
    int failed = 0;
    common::TimePoint next_due;  // earliest time another pass has work
  };
  // Mints every WIT-SVID that is wanted and missing or due, in batches.
  PassResult RunOnce();

  void Start();
  void Stop();

 private:
  std::vector<CachedEntry> DueEntries(common::TimePoint now, common::TimePoint* next_due) const;
  void MintBatch(const std::vector<CachedEntry>& batch, PassResult& result);
  void Loop();

  IdentityCache& cache_;
  WitMinter& minter_;
  const common::Clock& clock_;
  const int batch_size_;
  common::Mutex mutex_;
  common::CondVar wake_;
  bool dirty_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t watch_id_ = 0;
  std::thread thread_;
  // Entries whose last mint failed: not retried before this time. Only touched by RunOnce's
  // caller (one thread at a time).
  std::map<std::string, common::TimePoint> retry_after_;
};

}  // namespace spinel::agent
