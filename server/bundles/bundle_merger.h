// BundleMerger: the bundle of each trust domain this server signs for (the control plane and
// every zone), as the union over every server replica sharing the datastore.
//
// Each replica has its own CAs and JWT keys (journals in its data_dir). It publishes its own
// bundle of every trust domain (Datastore::PublishServerBundle, under its server id) at start and
// on every CaManager bundle change; the published JSON is the SPIFFE bundle plus a member
// "spinel_jwt_expiry": {kid: unix seconds} (ignored by bundle parsers) so the others know when
// its JWT and WIT keys stop mattering (one map: kids are unique across both). The merged bundle
// of a trust domain is
//   - X.509 authorities: this replica's (local snapshot) first, then every other replica's in
//     server-id order, each certificate once (byte-equal DER; with a shared upstream root
//     every replica contributes the same root, kept once), minus expired ones;
//   - JWT authorities: the same union by kid (the first replica listing a kid wins), minus keys
//     whose published expiry has passed;
//   - WIT authorities: likewise, minus any kid already taken by a JWT key;
//   - spiffe_sequence: see MergedSequence() below; never decreases for a trust domain while
//     this process runs.
// A replica's own published record is ignored in favour of its live snapshot (fresher).
//
// Refresh() re-reads the published bundles (one small query) and re-parses only records whose
// (sequence, JSON) changed, so calling it on every change notification is cheap; the change
// feed calls it through RefreshOnChanges when a bundle changed in the datastore (another
// replica published). Tick() (called every few seconds) retries failed publishes and drops
// what expired meanwhile.
// Readers get immutable shared_ptr snapshots; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bundle.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "server/ca/ca_manager.h"
#include "server/datastore/change_feed.h"
#include "server/datastore/datastore.h"

namespace spinel::server {

// One replica's published bundle of one trust domain, decoded.
struct ReplicaBundle {
  std::string server_id;
  common::Bundle bundle;
  // JWT and WIT key kid -> unix seconds; absent = unknown (kept).
  std::map<std::string, int64_t> jwt_expiry;
  uint64_t sequence = 0;
};

// The union described above; `replicas` in precedence order (own first). The result has the
// trust domain `td`, no sequence and no refresh hint.
common::Bundle MergeReplicaBundles(const common::TrustDomain& td,
                                   const std::vector<ReplicaBundle>& replicas,
                                   common::TimePoint now);

// The merged spiffe_sequence. `sum` is the sum of the contributing replicas' sequences: each
// replica's own sequence never decreases (ZoneAuthority bumps it on every change; the datastore
// refuses a lower published one), so the sum grows whenever any replica's bundle changes. It
// can still fall when a replica's record is removed (decommissioned) or an expiry drops content
// without any replica bumping, so the result is max(sum, previous + 1) when the content changed
// and max(sum, previous) when it did not; `previous` is 0 for the first computation.
uint64_t MergedSequence(uint64_t sum, uint64_t previous, bool content_changed);

// Encodes `snapshot` as this replica's published bundle JSON (bundle + spinel_jwt_expiry).
absl::StatusOr<std::string> PublishedBundleJson(const AuthoritySnapshot& snapshot);
// Decodes a published record. InvalidArgument naming the server id and trust domain.
absl::StatusOr<ReplicaBundle> DecodeReplicaBundle(const ServerBundleRecord& record);

// The server id: `configured` when given; else the one kept in <data_dir>/server-id, created
// (a random "srv-<16 hex>", mode 0600) on first use.
absl::StatusOr<std::string> LoadOrCreateServerId(const std::string& configured,
                                                 const std::string& data_dir);

class BundleMerger {
 public:
  BundleMerger(Datastore& datastore, const CaManager& cas, std::string server_id,
               const common::Clock& clock)
      : datastore_(datastore), cas_(cas), server_id_(std::move(server_id)), clock_(clock) {}

  // Publishes this replica's bundle of `td` (its current snapshot) and recomputes the merged
  // bundle. A failed publish is remembered and retried by Tick(); the merged bundle is
  // recomputed with the new snapshot regardless (this replica's agents must see it).
  absl::Status Publish(const common::TrustDomain& td);
  // Publish() of every trust domain the CaManager signs for, then Refresh(); first error.
  absl::Status PublishAll();
  // Re-reads every replica's published bundles; true when a merged bundle changed.
  absl::StatusOr<bool> Refresh();
  // Retries failed publishes, then Refresh() (which also drops what expired); true when a
  // merged bundle changed.
  absl::StatusOr<bool> Tick();
  // A ChangeFeed subscriber: Refresh() when `batch` holds a bundle change committed to the
  // datastore (revision > 0: a replica's published bundle or a stored one) or is a resync; a
  // failure is logged (Tick() retries). Subscribe it before the sync wake-up
  // (server/sync/change_wakeup.h) so streams woken by the same batch see the new bundles.
  void RefreshOnChanges(const ChangeBatch& batch);

  // The merged bundle of `td` (sequence set, no refresh hint); nullptr when the server does
  // not sign for it.
  std::shared_ptr<const common::Bundle> BundleOf(const common::TrustDomain& td) const;
  const std::string& server_id() const { return server_id_; }

 private:
  struct Cached {
    int64_t sequence = -1;
    std::string json;
    std::optional<ReplicaBundle> decoded;  // nullopt when it did not decode (logged once)
  };
  struct Merged {
    std::shared_ptr<const common::Bundle> bundle;
    uint64_t sequence = 0;
  };
  // Recomputes every trust domain's merged bundle from the snapshots and cached records;
  // true when any changed.
  bool RecomputeLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  bool RecomputeOneLocked(const common::TrustDomain& td, common::TimePoint now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  Datastore& datastore_;
  const CaManager& cas_;
  const std::string server_id_;
  const common::Clock& clock_;
  mutable common::Mutex mutex_;
  // Other replicas' records by (trust domain, server id).
  std::map<std::pair<common::TrustDomain, std::string>, Cached> records_ ABSL_GUARDED_BY(mutex_);
  std::map<common::TrustDomain, Merged> merged_ ABSL_GUARDED_BY(mutex_);
  std::set<common::TrustDomain> unpublished_ ABSL_GUARDED_BY(mutex_);
};

// The bundle of `td` this server hands out (agents' sync, AgentSvid, agent-API TLS, HTTPS and
// federation bundle endpoints): the merged one when `merger` is given, else the local
// snapshot's (a server without a merger, e.g. in unit tests). nullptr when the server does not
// sign for `td`.
std::shared_ptr<const common::Bundle> OwnBundle(const BundleMerger* merger, const CaManager& cas,
                                                const common::TrustDomain& td);

}  // namespace spinel::server
