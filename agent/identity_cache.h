// IdentityCache: the agent's live copy of everything it serves. The server's Sync stream fills
// it with entries, bundles and the zone policy document (peering and the zone files, from
// which it builds the zones::ZoneSet the Authorization API decides on); the rotator adds the
// X509-SVIDs it obtains for those entries, and the WitRotator the WIT-SVIDs of entries whose
// workloads asked for them. Readers (the Workload API) take immutable snapshots; every change
// publishes a new snapshot with a higher generation and wakes the watchers, so open streams
// can push the new state. A change that alters nothing (same entries, bundles, SVIDs) does not
// publish.
//
// Thread-safe. Watch callbacks run on the thread that made the change, after the new snapshot
// is visible (they may call Snapshot()); they should only schedule work.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent.pb.h"
#include "common/bundle.h"
#include "common/certificate.h"
#include "common/mutex.h"
#include "common/secret_data.h"
#include "common/selector.h"
#include "common/spiffe_id.h"
#include "trust-zones/zone.h"

namespace spinel::agent {

// An X509-SVID the agent holds for one entry: chain, private key (PKCS#8 DER) and lifetime.
struct X509SvidRecord {
  std::string entry_id;
  common::SpiffeId id;
  std::vector<common::Certificate> chain;  // leaf first
  std::shared_ptr<const common::SecretData> key_der;
  common::TimePoint issued_at;  // when the agent received it
  common::TimePoint not_before;
  common::TimePoint expires_at;
  // When the rotator renews it: half its lifetime, with jitter.
  common::TimePoint renew_at;
};

// A WIT-SVID the agent holds for one entry, with the key pair it is bound to (generated on
// the node, fresh for every WIT-SVID) as a private JWK (common/private_jwk.h).
struct WitSvidRecord {
  std::string entry_id;
  common::SpiffeId id;
  std::string token;                                  // the WIT-SVID, compact JWS
  std::shared_ptr<const common::SecretData> key_jwk;  // private JWK, alg = cnf.jwk.alg
  common::TimePoint issued_at;                        // when the agent received it
  common::TimePoint expires_at;
  common::TimePoint renew_at;  // half its lifetime, with jitter (WitRotator)
};

// One registration entry as the agent knows it.
struct CachedEntry {
  std::string id;
  common::SpiffeId spiffe_id;
  common::SelectorSet selectors;  // normalized
  std::string hint;
  int64_t revision = 0;
  std::vector<std::string> dns_names;
  std::shared_ptr<const X509SvidRecord> svid;  // null until the first one arrives
  // WIT-SVIDs are kept only for entries a workload asked for one (FetchWITSVID): from then on
  // while the entry exists, so the rotator renews them and open streams get each new one.
  bool wit_wanted = false;
  std::shared_ptr<const WitSvidRecord> wit;  // null until the first one arrives
};

struct CacheSnapshot {
  uint64_t generation = 0;
  std::vector<CachedEntry> entries;                       // by id
  std::map<common::TrustDomain, common::Bundle> bundles;  // control plane and zones
  // Zone peering: trust domain -> the trust domains of its peers.
  std::map<common::TrustDomain, std::set<common::TrustDomain>> peers;
  // Zone federation: zone trust domain -> the foreign trust domains it federates with (the
  // policy document's "federates_with"; their bundles are in `bundles` when the server holds
  // them).
  std::map<common::TrustDomain, std::set<common::TrustDomain>> federates_with;
  // The zones (rules included) built from the policy document's "zone_files"; null until the
  // server has sent a policy with zone files (an older server sends none). Immutable; shared
  // by every snapshot until the next policy changes it.
  std::shared_ptr<const zones::ZoneSet> zones;
  std::string policy;   // the policy document the peers and zones were parsed from
  bool synced = false;  // true once a full snapshot from the server was applied

  // Entries whose selectors are all among `workload` (in entry id order).
  std::vector<const CachedEntry*> Matching(const common::SelectorSet& workload) const;
  // The trust domains a workload holding `entries` may trust: their own trust domains, every
  // peer of them and every foreign trust domain they federate with (the union over all).
  std::set<common::TrustDomain> TrustedDomains(
      const std::vector<const CachedEntry*>& entries) const;
  // The peers and federated trust domains (only) of those trust domains, excluding the
  // entries' own trust domains.
  std::set<common::TrustDomain> FederatedDomains(
      const std::vector<const CachedEntry*>& entries) const;
};

class IdentityCache {
 public:
  using Watcher = std::function<void(uint64_t generation)>;

  IdentityCache();

  // Applies one Sync message (full snapshot or delta). InvalidArgument for a malformed
  // message (including a policy whose zone files do not load); nothing is applied then. A
  // policy document is re-parsed only when its text changed.
  absl::Status ApplySyncUpdate(const spinel::v1::SyncUpdate& update);
  // Stores freshly signed SVIDs (one publish for the whole batch). SVIDs for entries the cache
  // no longer has are dropped.
  void StoreX509Svids(std::vector<X509SvidRecord> svids);
  // Drops SVIDs and WIT-SVIDs that have expired at `now` (they must never be served).
  void DropExpired(common::TimePoint now);

  // identity_cache_wit.cc. Marks `entry_ids` as wanting WIT-SVIDs (publishes only when one
  // was not marked yet). Unknown ids are ignored.
  void RequestWitSvids(const std::vector<std::string>& entry_ids);
  // Stores freshly minted WIT-SVIDs (one publish); those for entries the cache no longer has,
  // or whose SPIFFE ID changed meanwhile, are dropped.
  void StoreWitSvids(std::vector<WitSvidRecord> wits);

  std::shared_ptr<const CacheSnapshot> Snapshot() const;

  // Registers a watcher called after every publish; returns an id for Unwatch.
  uint64_t Watch(Watcher watcher);
  void Unwatch(uint64_t id);

 private:
  // Finds the entry `id` in `snapshot` (entries are sorted by id), or nullptr.
  static CachedEntry* FindEntry(CacheSnapshot& snapshot, const std::string& id);
  // Installs `next` as the current snapshot and returns its generation.
  uint64_t PublishLocked(std::shared_ptr<CacheSnapshot> next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // Calls every watcher; never with mutex_ held.
  void Notify(uint64_t generation) ABSL_LOCKS_EXCLUDED(mutex_, watchers_mutex_);

  mutable common::Mutex mutex_;
  std::shared_ptr<const CacheSnapshot> snapshot_ ABSL_GUARDED_BY(mutex_);
  common::Mutex watchers_mutex_;
  std::map<uint64_t, Watcher> watchers_ ABSL_GUARDED_BY(watchers_mutex_);
  uint64_t next_watcher_ ABSL_GUARDED_BY(watchers_mutex_) = 1;
};

}  // namespace spinel::agent
