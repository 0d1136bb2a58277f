// The metrics spinel-server exposes at /metrics (Prometheus text format), in one place:
//
//   spinel_svids_issued_total{zone,type}          counter: SVIDs signed (type "x509" / "jwt")
//   spinel_svid_signing_errors_total{zone,type}   counter: signing requests that failed
//   spinel_signing_duration_seconds{type}         histogram: time to sign one SVID
//   spinel_attested_agents                        gauge: attested agents in the datastore
//   spinel_entries                                gauge: registration entries
//   spinel_ca_expiry_seconds{trust_domain}        gauge: seconds until the active X.509 CA
//                                                 expires (negative once it has)
//   spinel_bundle_sequence{trust_domain}          gauge: spiffe_sequence of the bundle
//   spinel_agent_streams                          gauge: connected agent sync streams
//
// The `zone` label is the zone name of the SVID's trust domain; SVIDs outside every zone (the
// control plane's agent and server SVIDs) carry their trust domain name instead, which cannot
// be mistaken for a zone name (zone names have no dots).
//
// Gauges are computed at scrape time by callbacks that read the parts below; they never throw
// and skip a value whose source fails (a datastore error leaves that gauge without a sample).
#pragma once

#include "common/clock.h"
#include "server/ca/ca_manager.h"
#include "server/datastore/agent_store.h"
#include "server/datastore/entry_store.h"
#include "server/issuance/issuer.h"
#include "server/metrics/metrics.h"
#include "server/sync/agent_sync.h"
#include "server/zones/zone_state.h"

namespace spinel::server {

inline constexpr char kMetricSvidsIssued[] = "spinel_svids_issued_total";
inline constexpr char kMetricSigningErrors[] = "spinel_svid_signing_errors_total";
inline constexpr char kMetricSigningDuration[] = "spinel_signing_duration_seconds";
inline constexpr char kMetricAttestedAgents[] = "spinel_attested_agents";
inline constexpr char kMetricEntries[] = "spinel_entries";
inline constexpr char kMetricCaExpiry[] = "spinel_ca_expiry_seconds";
inline constexpr char kMetricBundleSequence[] = "spinel_bundle_sequence";
inline constexpr char kMetricAgentStreams[] = "spinel_agent_streams";

// What the gauges read (references; see RegisterServerMetrics for their lifetime).
struct ServerMetricsDeps {
  Metrics& metrics;      // where every metric is described and the gauges installed
  AgentStore& agents;    // spinel_attested_agents
  EntryStore& entries;   // spinel_entries
  const CaManager& cas;  // spinel_ca_expiry_seconds, spinel_bundle_sequence
  const SyncHub& hub;    // spinel_agent_streams
  const common::Clock& clock;
};

// Describes every metric above on `deps.metrics` and installs the gauge callbacks. The
// callbacks keep references to the parts in `deps`: call once, and do not render the metrics
// after those are destroyed. Not thread-safe against itself; call during start-up.
void RegisterServerMetrics(const ServerMetricsDeps& deps);

// Counts one signing (the Issuer observer; the composition root installs it, possibly next to
// an audit observer): spinel_svids_issued_total and spinel_signing_duration_seconds when
// `record.ok`, spinel_svid_signing_errors_total otherwise. Thread-safe.
void RecordIssuance(Metrics& metrics, const ZoneState& zones, const IssuanceRecord& record);

}  // namespace spinel::server
