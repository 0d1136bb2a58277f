#include "server/metrics/server_metrics.h"

#include <chrono>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include "common/log.h"

namespace spinel::server {
namespace {

using Samples = std::vector<std::pair<MetricLabels, double>>;

// Signing takes well under a millisecond to a few milliseconds; the top buckets catch stalls.
const std::vector<double> kSigningBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                             0.01,   0.025,   0.05,   0.1,   0.25,   1};

// Runs `compute`; an exception (none is expected) yields no samples instead of escaping into
// Metrics::Render.
Metrics::GaugeCallback NoThrow(const char* name, std::function<Samples()> compute) {
  return [name, compute = std::move(compute)]() -> Samples {
    try {
      return compute();
    } catch (const std::exception& e) {
      LOG_WARN("metric callback failed", {{"metric", name}, {"error", e.what()}});
    } catch (...) {
      LOG_WARN("metric callback failed", {{"metric", name}});
    }
    return {};
  };
}

Samples AttestedAgents(AgentStore& store) {
  absl::StatusOr<std::vector<AttestedAgent>> agents = store.ListAttestedAgents({});
  if (!agents.ok()) return {};
  return {{{}, static_cast<double>(agents->size())}};
}

Samples Entries(EntryStore& store) {
  absl::StatusOr<int64_t> count = store.CountEntries({});
  if (!count.ok()) return {};
  return {{{}, static_cast<double>(*count)}};
}

Samples CaExpiry(const CaManager& cas, const common::Clock& clock) {
  Samples out;
  const common::TimePoint now = clock.Now();
  for (const common::TrustDomain& td : cas.TrustDomains()) {
    std::shared_ptr<const AuthoritySnapshot> snapshot = cas.Snapshot(td);
    if (snapshot == nullptr) continue;
    for (const X509Authority& authority : snapshot->x509) {
      if (authority.state != SlotState::kActive) continue;
      const std::chrono::duration<double> left = authority.NotAfter() - now;
      out.push_back({{{"trust_domain", td.name()}}, left.count()});
      break;
    }
  }
  return out;
}

Samples BundleSequences(const CaManager& cas) {
  Samples out;
  for (const common::TrustDomain& td : cas.TrustDomains()) {
    std::shared_ptr<const AuthoritySnapshot> snapshot = cas.Snapshot(td);
    if (snapshot == nullptr) continue;
    out.push_back({{{"trust_domain", td.name()}}, static_cast<double>(snapshot->sequence)});
  }
  return out;
}

}  // namespace

void RegisterServerMetrics(const ServerMetricsDeps& deps) {
  Metrics& metrics = deps.metrics;
  metrics.Describe(kMetricSvidsIssued, "counter", "SVIDs signed, by zone and type (x509, jwt).");
  metrics.Describe(kMetricSigningErrors, "counter",
                   "SVID signing requests that failed, by zone and type.");
  metrics.DescribeHistogram(kMetricSigningDuration, "Time to sign one SVID, by type.",
                            kSigningBuckets);

  AgentStore& agents = deps.agents;
  EntryStore& entries = deps.entries;
  const CaManager& cas = deps.cas;
  const common::Clock& clock = deps.clock;
  const SyncHub& hub = deps.hub;
  metrics.AddGaugeCallback(
      kMetricAttestedAgents, "Attested agents in the datastore.",
      NoThrow(kMetricAttestedAgents, [&agents] { return AttestedAgents(agents); }));
  metrics.AddGaugeCallback(kMetricEntries, "Registration entries in the datastore.",
                           NoThrow(kMetricEntries, [&entries] { return Entries(entries); }));
  metrics.AddGaugeCallback(
      kMetricCaExpiry, "Seconds until the active X.509 CA of the trust domain expires.",
      NoThrow(kMetricCaExpiry, [&cas, &clock] { return CaExpiry(cas, clock); }));
  metrics.AddGaugeCallback(kMetricBundleSequence, "spiffe_sequence of the trust domain's bundle.",
                           NoThrow(kMetricBundleSequence, [&cas] { return BundleSequences(cas); }));
  metrics.AddGaugeCallback(kMetricAgentStreams, "Connected agent sync streams.",
                           NoThrow(kMetricAgentStreams, [&hub]() -> Samples {
                             return {{{}, static_cast<double>(hub.subscriber_count())}};
                           }));
}

void RecordIssuance(Metrics& metrics, const ZoneState& zones, const IssuanceRecord& record) {
  std::shared_ptr<const zones::ZoneSet> zone_set = zones.Get();
  const zones::Zone* zone = zone_set->ZoneOf(record.id);
  const std::string zone_label = zone != nullptr ? zone->name : record.id.trust_domain().name();
  const MetricLabels labels = {{"zone", zone_label}, {"type", record.kind}};
  if (!record.ok) {
    metrics.Increment(kMetricSigningErrors, labels);
    return;
  }
  metrics.Increment(kMetricSvidsIssued, labels);
  const std::chrono::duration<double> seconds = record.latency;
  metrics.Observe(kMetricSigningDuration, {{"type", record.kind}}, seconds.count());
}

}  // namespace spinel::server
