#include "server/federation/federation_refresher.h"

#include <algorithm>

#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/bundles/own_bundle.h"

namespace spinel::server {
namespace {

using common::StrCat;

// The stored bundle of `td` parsed, nullopt when there is none.
absl::StatusOr<std::optional<BundleRecord>> StoredRecord(BundleStore& bundles,
                                                         const common::TrustDomain& td) {
  absl::StatusOr<BundleRecord> stored = bundles.GetBundle(td);
  if (stored.ok()) return std::optional<BundleRecord>(*std::move(stored));
  if (stored.status().code() == absl::StatusCode::kNotFound) return std::nullopt;
  return stored.status();
}

FederationRefreshState Succeeded(const FederationRefreshState& before, int64_t now,
                                 std::chrono::seconds interval) {
  FederationRefreshState state = before;
  state.last_attempt_at = now;
  state.last_success_at = now;
  state.next_refresh_at = now + interval.count();
  state.last_error.clear();
  state.consecutive_failures = 0;
  return state;
}

FederationRefreshState Failed(const FederationRefreshState& before, int64_t now,
                              std::chrono::seconds cap, std::string error) {
  FederationRefreshState state = before;
  state.last_attempt_at = now;
  state.consecutive_failures = before.consecutive_failures + 1;
  const int64_t shift = std::min<int64_t>(state.consecutive_failures - 1, 20);
  state.next_refresh_at = now + std::min<int64_t>(int64_t{1} << shift, cap.count());
  state.last_error = std::move(error);
  return state;
}

}  // namespace

FederationRefresher::FederationRefresher(const FederationRefresherDeps& deps,
                                         FederationRefresherOptions options)
    : deps_(deps), options_(options), fetcher_(deps.clock, options.fetch) {
  deps_.metrics.Describe(kMetricFederationRefresh, "counter",
                         "Federated bundle refresh attempts by trust domain and outcome.");
  deps_.metrics.Describe(kMetricFederatedBundleLastSuccess, "gauge",
                         "Unix time of the last successful federated bundle refresh.");
}

FederationRefresher::~FederationRefresher() { Stop(); }

void FederationRefresher::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void FederationRefresher::Stop() {
  {
    common::MutexLock lock(mutex_);
    stopping_ = true;
  }
  stop_cv_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

void FederationRefresher::Run() {
  common::MutexLock lock(mutex_);
  while (!stopping_) {
    lock.Unlock();
    absl::StatusOr<int> done = RefreshDue();
    if (!done.ok()) {
      LOG_WARN("federation: cannot list relationships",
               {{"error", std::string(done.status().message())}});
    }
    lock.Lock();
    stop_cv_.WaitFor(mutex_, options_.poll_interval,
                     [this]()
                         ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return stopping_ || woken_; });
    woken_ = false;
  }
}

void FederationRefresher::WakeOnChanges(const ChangeBatch& batch) {
  const bool relationship_changed =
      batch.resync || std::any_of(batch.events.begin(), batch.events.end(),
                                  [](const auto& e) { return e.kind == ChangeKind::kFederation; });
  if (!relationship_changed) return;
  {
    common::MutexLock lock(mutex_);
    woken_ = true;
  }
  stop_cv_.NotifyAll();
}

absl::StatusOr<int> FederationRefresher::RefreshDue() {
  SPINEL_ASSIGN_OR_RETURN(std::vector<FederationRelationship> relationships,
                          deps_.federations.ListFederationRelationships());
  const int64_t now = common::ToUnixSeconds(deps_.clock.Now());
  int attempted = 0;
  for (const FederationRelationship& relationship : relationships) {
    if (relationship.refresh.next_refresh_at > now) continue;
    {
      common::MutexLock lock(mutex_);
      if (stopping_) break;
    }
    ++attempted;
    absl::StatusOr<FederationRelationship> refreshed = Refresh(relationship);
    if (!refreshed.ok() && refreshed.status().code() != absl::StatusCode::kNotFound) {
      LOG_WARN("federation: cannot record the refresh",
               {{"trust_domain", relationship.trust_domain.name()},
                {"error", std::string(refreshed.status().message())}});
    }
  }
  return attempted;
}

absl::StatusOr<FederationRelationship> FederationRefresher::RefreshNow(
    const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(FederationRelationship relationship,
                          deps_.federations.GetFederationRelationship(td));
  return Refresh(relationship);
}

absl::StatusOr<FederationRelationship> FederationRefresher::Refresh(
    const FederationRelationship& given) {
  common::MutexLock lock(refresh_mutex_);
  // Re-read under the lock: another refresh may have just recorded its state.
  SPINEL_ASSIGN_OR_RETURN(FederationRelationship relationship,
                          deps_.federations.GetFederationRelationship(given.trust_domain));
  const common::TrustDomain& td = relationship.trust_domain;
  const int64_t now = common::ToUnixSeconds(deps_.clock.Now());
  std::chrono::seconds interval{0};
  std::string refusal;
  SPINEL_RETURN_IF_ERROR(FetchAndStore(relationship, &interval, &refusal));
  const bool ok = refusal.empty();
  FederationRefreshState state;
  if (ok) {
    state = Succeeded(relationship.refresh, now, interval);
    deps_.metrics.Set(kMetricFederatedBundleLastSuccess, {{"trust_domain", td.name()}},
                      static_cast<double>(now));
  } else {
    state = Failed(relationship.refresh, now, StoredInterval(td), std::move(refusal));
    LOG_WARN("federation: bundle refresh failed",
             {{"trust_domain", td.name()},
              {"error", state.last_error},
              {"consecutive_failures", std::to_string(state.consecutive_failures)}});
  }
  deps_.metrics.Increment(kMetricFederationRefresh,
                          {{"trust_domain", td.name()}, {"outcome", ok ? "success" : "failure"}});
  return deps_.federations.RecordFederationRefresh(td, state);
}

absl::Status FederationRefresher::FetchAndStore(const FederationRelationship& relationship,
                                                std::chrono::seconds* interval,
                                                std::string* refusal) {
  const common::TrustDomain& td = relationship.trust_domain;
  SPINEL_ASSIGN_OR_RETURN(common::X509AuthorityMap authorities,
                          EndpointAuthorities(relationship, refusal));
  if (!refusal->empty()) return absl::OkStatus();
  absl::StatusOr<common::Bundle> fetched = fetcher_.Fetch(relationship, authorities);
  if (!fetched.ok()) {
    *refusal = std::string(fetched.status().message());
    return absl::OkStatus();
  }
  const common::Bundle& bundle = *fetched;
  SPINEL_ASSIGN_OR_RETURN(std::optional<BundleRecord> stored, StoredRecord(deps_.bundles, td));
  const int64_t stored_sequence = stored ? stored->sequence : 0;
  if (bundle.sequence && static_cast<int64_t>(*bundle.sequence) < stored_sequence) {
    *refusal = StrCat("bundle endpoint ", relationship.bundle_endpoint_url,
                      ": sequence went backwards (stored ", stored_sequence, ", fetched ",
                      *bundle.sequence, "); the stored bundle is kept");
    return absl::OkStatus();
  }
  *interval = Interval(bundle.refresh_hint_seconds);
  SPINEL_ASSIGN_OR_RETURN(std::string json, bundle.ToJson());
  if (stored && stored->bundle_json == json) return absl::OkStatus();
  // A relationship deleted during the fetch must not get its bundle back.
  SPINEL_RETURN_IF_ERROR(deps_.federations.GetFederationRelationship(td).status());
  BundleRecord record{td, json,
                      bundle.sequence ? static_cast<int64_t>(*bundle.sequence) : stored_sequence};
  SPINEL_RETURN_IF_ERROR(deps_.bundles.SetBundle(record).status());
  LOG_INFO("federation: bundle updated",
           {{"trust_domain", td.name()},
            {"sequence", std::to_string(record.sequence)},
            {"x509_authorities", std::to_string(bundle.x509_authorities.size())},
            {"jwt_authorities", std::to_string(bundle.jwt_authorities.size())},
            {"wit_authorities", std::to_string(bundle.wit_authorities.size())}});
  return absl::OkStatus();
}

absl::StatusOr<common::X509AuthorityMap> FederationRefresher::EndpointAuthorities(
    const FederationRelationship& relationship, std::string* refusal) {
  common::X509AuthorityMap authorities;
  if (relationship.profile != "https_spiffe" || !relationship.endpoint_spiffe_id) {
    return authorities;
  }
  const common::TrustDomain& td = relationship.endpoint_spiffe_id->trust_domain();
  if (deps_.own_bundles.Signs(td)) {
    SPINEL_ASSIGN_OR_RETURN(common::Bundle own, deps_.own_bundles.Published(td));
    authorities.Set(td, own.x509_authorities);
    return authorities;
  }
  SPINEL_ASSIGN_OR_RETURN(std::optional<BundleRecord> stored, StoredRecord(deps_.bundles, td));
  if (!stored) return authorities;  // the fetch fails: "no X.509 bundle for trust domain"
  absl::StatusOr<common::Bundle> bundle = common::Bundle::Parse(td, stored->bundle_json);
  if (!bundle.ok()) {
    *refusal =
        StrCat("bundle endpoint ", relationship.bundle_endpoint_url, ": the stored bundle of ",
               td.name(), " that verifies it does not parse: ", bundle.status().message());
    return authorities;
  }
  authorities.Set(td, bundle->x509_authorities);
  return authorities;
}

std::chrono::seconds FederationRefresher::StoredInterval(const common::TrustDomain& td) {
  absl::StatusOr<std::optional<BundleRecord>> stored = StoredRecord(deps_.bundles, td);
  if (!stored.ok() || !stored->has_value()) return Interval(std::nullopt);
  absl::StatusOr<common::Bundle> bundle = common::Bundle::Parse(td, (*stored)->bundle_json);
  return Interval(bundle.ok() ? bundle->refresh_hint_seconds : std::nullopt);
}

std::chrono::seconds FederationRefresher::Interval(const std::optional<int64_t>& hint) const {
  const std::chrono::seconds wanted =
      hint ? std::chrono::seconds(*hint) : options_.default_refresh_interval;
  return std::clamp(wanted, kMinFederationRefresh, kMaxFederationRefresh);
}

absl::StatusOr<std::vector<std::string>> FailingFederations(FederationStore& federations) {
  SPINEL_ASSIGN_OR_RETURN(std::vector<FederationRelationship> relationships,
                          federations.ListFederationRelationships());
  std::vector<std::string> failing;
  for (const FederationRelationship& r : relationships) {
    if (r.refresh.consecutive_failures > 0) {
      failing.push_back(StrCat(r.trust_domain.name(), ": ", r.refresh.last_error));
    }
  }
  return failing;
}

}  // namespace spinel::server
