// ServerComponents: the parts of a running spinel-server that the API services use, wired by
// the composition root (server.cc). Services take this struct (references, owned by Server)
// instead of reaching for globals. Every referenced object is thread-safe.
#pragma once

#include "common/clock.h"
#include "server/sync/agent_sync.h"
#include "server/ca/ca_manager.h"
#include "server/config.h"
#include "server/datastore/datastore.h"
#include "server/federation/refresh_trigger.h"
#include "server/issuance/issuer.h"
#include "server/metrics/metrics.h"
#include "server/entries/registry.h"
#include "server/zones/zone_state.h"

namespace spinel::server {

class BundleMerger;

struct ServerComponents {
  const ServerConfig& config;
  const common::Clock& clock;
  Datastore& datastore;
  ZoneState& zones;
  CaManager& cas;
  EntryRegistry& registry;
  Issuer& issuer;
  AgentView& view;
  SyncHub& hub;
  Metrics& metrics;
  // Set once the federation refresher runs (server.cc); null before, e.g. in tests that build
  // the admin service without one (RefreshFederatedBundle then fails UNAVAILABLE).
  FederationRefreshTrigger* federation = nullptr;
  // Every replica's bundles merged (server/bundles/bundle_merger.h), set by server.cc; null in tests
  // that build services without one (own bundles are then the local snapshots). Read bundles
  // through OwnBundle(components.bundles, components.cas, td).
  const BundleMerger* bundles = nullptr;
};

}  // namespace spinel::server
