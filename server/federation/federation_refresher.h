// FederationRefresher: keeps the bundles of federated trust domains fresh (issue 9). For each
// federation relationship in the datastore it fetches the foreign bundle (BundleFetcher) when
// the relationship's refresh.next_refresh_at has come, on a background thread that looks once
// per poll_interval and at once when the change feed delivers a federation relationship change
// (WakeOnChanges: a relationship created or updated has next_refresh_at 0, so it is fetched
// right away, whichever replica it was made through), and on demand (RefreshNow, the admin
// API's "refresh").
//
// One refresh of relationship R at time `now`:
//   - https_spiffe: the endpoint's SVID is verified against the X.509 authorities of
//     endpoint_spiffe_id's trust domain: this server's own bundle when it signs for it, else
//     the stored bundle of that trust domain (usually R's own last good bundle);
//   - a fetched bundle with a spiffe_sequence lower than the stored one is refused ("sequence
//     went backwards"); otherwise it is stored (Datastore::SetBundle, re-encoded JSON; with no
//     spiffe_sequence the stored sequence is kept) when it differs from the stored one; its
//     change event reaches agents through the change feed (server/sync/change_wakeup.h);
//   - success: next_refresh_at = now + spiffe_refresh_hint (default_refresh_interval without
//     one), clamped to [1 s, 1 h]; last_error cleared, consecutive_failures 0;
//   - failure: the last good bundle stays; last_error says why (it names the URL),
//     consecutive_failures + 1, next_refresh_at = now + 1 s doubled per consecutive failure,
//     at most the refresh interval of the stored bundle (its hint, clamped, or the default);
//   - the state is recorded with Datastore::RecordFederationRefresh (times in Unix seconds of
//     the injected clock); a relationship deleted during the fetch gets nothing stored.
// Metrics: spinel_federation_refresh_total{trust_domain,outcome="success"|"failure"} (counter)
// and spinel_federated_bundle_last_success_seconds{trust_domain} (gauge, Unix time).
// Health: FailingFederations lists the relationships whose last attempt failed; the server
// stays ready (the last good bundles keep working; see docs/configuration.md).
//
// Refreshes are serialized (one fetch at a time). Thread-safe; Start/Stop not concurrently.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "server/bundles/own_bundle.h"
#include "server/datastore/bundle_store.h"
#include "server/datastore/change_feed.h"
#include "server/datastore/federation_store.h"
#include "server/federation/bundle_fetcher.h"
#include "server/federation/refresh_trigger.h"
#include "server/metrics/metrics.h"

namespace spinel::server {

inline constexpr char kMetricFederationRefresh[] = "spinel_federation_refresh_total";
inline constexpr char kMetricFederatedBundleLastSuccess[] =
    "spinel_federated_bundle_last_success_seconds";
inline constexpr std::chrono::seconds kMinFederationRefresh{1};
inline constexpr std::chrono::seconds kMaxFederationRefresh{3600};

struct FederationRefresherOptions {
  std::chrono::seconds default_refresh_interval{300};  // config refresh_interval_default
  std::chrono::milliseconds poll_interval{1000};       // wall time between background passes
  BundleFetcherOptions fetch;
};

// The parts the refresher uses (references; they must outlive it).
struct FederationRefresherDeps {
  FederationStore& federations;   // the relationships and their refresh state
  BundleStore& bundles;           // the federated bundles it stores
  const OwnBundles& own_bundles;  // verifies endpoints of the server's own trust domains
  Metrics& metrics;
  const common::Clock& clock;
};

class FederationRefresher final : public FederationRefreshTrigger {
 public:
  // Describes the metrics on deps.metrics.
  FederationRefresher(const FederationRefresherDeps& deps, FederationRefresherOptions options);
  ~FederationRefresher() override;  // Stop()s

  // Starts the background thread (a second call does nothing).
  void Start();
  // Stops and joins it, waiting for a fetch in progress (bounded by the fetch timeout).
  void Stop();
  // A ChangeFeed subscriber: starts a background pass now (instead of at the next poll) when
  // `batch` holds a federation relationship change or is a resync. Does not block.
  void WakeOnChanges(const ChangeBatch& batch);

  // One pass: refreshes every relationship due at the clock's now; returns how many it
  // attempted. The datastore's error when the relationships cannot be listed.
  absl::StatusOr<int> RefreshDue();
  absl::StatusOr<FederationRelationship> RefreshNow(const common::TrustDomain& td) override;

 private:
  absl::StatusOr<FederationRelationship> Refresh(const FederationRelationship& relationship);
  // Fetches, checks and stores the bundle. A refused fetch sets `refusal` (the reason to
  // record) and returns OK; a datastore failure is returned. `interval` gets the refresh
  // interval on success.
  absl::Status FetchAndStore(const FederationRelationship& relationship,
                             std::chrono::seconds* interval, std::string* refusal);
  // What verifies an https_spiffe endpoint (empty for https_web); `refusal` as above.
  absl::StatusOr<common::X509AuthorityMap> EndpointAuthorities(
      const FederationRelationship& relationship, std::string* refusal);
  // The refresh interval the stored bundle of `td` asks for (default without one).
  std::chrono::seconds StoredInterval(const common::TrustDomain& td);
  std::chrono::seconds Interval(const std::optional<int64_t>& hint_seconds) const;
  void Run();

  const FederationRefresherDeps deps_;
  const FederationRefresherOptions options_;
  const BundleFetcher fetcher_;
  common::Mutex refresh_mutex_;  // one refresh at a time
  common::Mutex mutex_;
  common::CondVar stop_cv_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool woken_ ABSL_GUARDED_BY(mutex_) = false;  // a pass is wanted now
  std::thread thread_;
};

// The relationships whose last refresh attempt failed, as "<trust domain>: <last error>", in
// trust-domain order (empty when all are fine). The datastore's error when it cannot list.
absl::StatusOr<std::vector<std::string>> FailingFederations(FederationStore& federations);

}  // namespace spinel::server
