// SvidRotator: keeps an X509-SVID for every entry in the IdentityCache. Workload keys are
// generated here on the node (ECDSA P-256); only CSRs go to the server, in batches. An SVID is
// renewed once about half its lifetime has passed (+-10% jitter spreads the load; the lifetime
// counts from when it was requested, not from the server's backdated notBefore), so the new
// one reaches every open stream long before the old one expires, and at once when its entry
// changes (a new revision: TTL, DNS names). Expired SVIDs are dropped from
// the cache (never served) even while the server is unreachable.
//
// Coalescing: a pass that signs anything (an SVID due, a new or changed entry) also renews the
// SVIDs that would come due within a tenth of their lifetime (kRenewalCoalesceDivisor), so an
// agent with many SVIDs renews them in a few passes per lifetime instead of one pass (and one
// cache publish, and one Workload API push to every stream of the workload) per SVID. The
// earliest renewal is thus at 30% of the lifetime. A pass with nothing due signs nothing; SVIDs
// waiting to retry after a failure are not pulled forward. Each batch of a pass is stored
// with one StoreX509Svids (one publish per batch).
//
// RunOnce() is one pass (used directly by tests with a fake clock); Start() runs passes on a
// background thread, woken early whenever the cache changes (new entries need SVIDs).
// Thread-safe.
#pragma once

#include <thread>

#include "agent/csr_signer.h"
#include "agent/identity_cache.h"
#include "common/mutex.h"

namespace spinel::agent {

inline constexpr int kRenewalCoalesceDivisor = 10;

class SvidRotator {
 public:
  SvidRotator(IdentityCache& cache, CsrSigner& signer, const common::Clock& clock, int batch_size)
      : cache_(cache), signer_(signer), clock_(clock), batch_size_(batch_size) {}
  ~SvidRotator();

  struct PassResult {
    int renewed = 0;
    int failed = 0;
    common::TimePoint next_due;  // earliest time another pass has work
  };
  // Renews every SVID that is missing or due, in batches.
  PassResult RunOnce();

  void Start();
  void Stop();

 private:
  // Entries that need an SVID now, and the earliest later due time.
  std::vector<CachedEntry> DueEntries(common::TimePoint now, common::TimePoint* next_due) const;
  void SignBatch(const std::vector<CachedEntry>& batch, PassResult& result);
  // Drops bookkeeping of entries the cache no longer has.
  void ForgetRemovedEntries();
  void Loop();

  IdentityCache& cache_;
  CsrSigner& signer_;
  const common::Clock& clock_;
  const int batch_size_;
  common::Mutex mutex_;
  common::CondVar wake_;
  bool dirty_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t watch_id_ = 0;
  std::thread thread_;
  // Entries whose last signing failed: not retried before this time.
  std::map<std::string, common::TimePoint> retry_after_;  // only touched by RunOnce's caller
  // The entry revision each current SVID was signed for: a newer revision (TTL, DNS names
  // changed) makes the entry due at once.
  std::map<std::string, int64_t> signed_revision_;  // only touched by RunOnce's caller
};

}  // namespace spinel::agent
