// Each service's dependencies built from a ServerFixture, the way the composition root
// (server/server.cc) builds them: every store part is the fixture's datastore (or
// `datastore_override`, e.g. an UnavailableDatastore), the own bundles are the fixture's
// (no BundleMerger: the local snapshots), and settings come from the fixture's config.
// The returned structs hold references into the fixture: it must outlive them and whatever
// is built from them.
#pragma once

#include "server/api/admin/admin_service.h"
#include "server/api/agent/agent_service.h"
#include "server/federation/bundle_endpoint.h"
#include "server/federation/federation_refresher.h"
#include "server/http/https_server.h"
#include "server/metrics/server_metrics.h"
#include "tests/server/server_fixture.h"

namespace spinel::server::testing {

inline Datastore& StoreOf(ServerFixture& f, Datastore* datastore_override) {
  return datastore_override != nullptr ? *datastore_override : *f.datastore;
}

// The admin API's parts; no federation refresher (RefreshFederatedBundle is UNAVAILABLE).
inline AdminDeps AdminDepsOf(ServerFixture& f, Datastore* datastore_override = nullptr) {
  Datastore& store = StoreOf(f, datastore_override);
  return AdminDeps{.registry = *f.registry,
                   .entries = store,
                   .agents = store,
                   .bundles = store,
                   .federations = store,
                   .approvals = store,
                   .audit = store,
                   .zones = *f.zones,
                   .cas = *f.cas,
                   .own_bundles = *f.own_bundles,
                   .issuer = *f.issuer,
                   .clock = f.clock,
                   .settings = AdminSettings::FromConfig(f.config)};
}

// The agent API's parts, its settings read from f.config now.
inline AgentApiDeps AgentApiDepsOf(ServerFixture& f) {
  Datastore& store = *f.datastore;
  return AgentApiDeps{.entries = store,
                      .agents = store,
                      .approvals = store,
                      .audit = store,
                      .changes = store,
                      .zones = *f.zones,
                      .issuer = *f.issuer,
                      .view = *f.view,
                      .hub = *f.hub,
                      .own_bundles = *f.own_bundles,
                      .issuer_keys = f.issuer_keys,
                      .metrics = f.metrics,
                      .clock = f.clock,
                      .settings = AgentApiSettings::FromConfig(f.config)};
}

inline HttpsServerDeps HttpsDepsOf(ServerFixture& f, Datastore* datastore_override = nullptr) {
  Datastore& store = StoreOf(f, datastore_override);
  return HttpsServerDeps{.changes = store,
                         .federations = store,
                         .zones = *f.zones,
                         .cas = *f.cas,
                         .own_bundles = *f.own_bundles,
                         .metrics = f.metrics,
                         .clock = f.clock,
                         .control = f.config.trust_domain};
}

inline BundleEndpointDeps BundleEndpointDepsOf(ServerFixture& f) {
  return BundleEndpointDeps{.zones = *f.zones,
                            .own_bundles = *f.own_bundles,
                            .issuer = *f.issuer,
                            .clock = f.clock,
                            .svid_ttl = f.config.server_svid_ttl,
                            .data_dir = f.config.data_dir};
}

inline FederationRefresherDeps FederationDepsOf(ServerFixture& f) {
  return FederationRefresherDeps{.federations = *f.datastore,
                                 .bundles = *f.datastore,
                                 .own_bundles = *f.own_bundles,
                                 .metrics = f.metrics,
                                 .clock = f.clock};
}

inline ServerMetricsDeps MetricsDepsOf(ServerFixture& f, Datastore* datastore_override = nullptr) {
  Datastore& store = StoreOf(f, datastore_override);
  return ServerMetricsDeps{.metrics = f.metrics,
                           .agents = store,
                           .entries = store,
                           .cas = *f.cas,
                           .hub = *f.hub,
                           .clock = f.clock};
}

}  // namespace spinel::server::testing
