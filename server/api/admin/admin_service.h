// The admin API (common/proto/admin.proto), served on a Unix socket whose file permissions
// are the access control (mode 0600: only the server's user; the CLI runs as that user or
// root). Every request is validated before anything is written; errors carry the right gRPC
// status (InvalidArgument for bad input, NotFound, AlreadyExists, FailedPrecondition, ...) and a
// message naming what is wrong. Tokens are returned once, to the caller, and never logged.
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "admin.grpc.pb.h"
#include "common/clock.h"
#include "server/bundles/own_bundle.h"
#include "server/ca/ca_manager.h"
#include "server/config.h"
#include "server/datastore/agent_store.h"
#include "server/datastore/approval_store.h"
#include "server/datastore/audit_store.h"
#include "server/datastore/bundle_store.h"
#include "server/datastore/entry_store.h"
#include "server/datastore/federation_store.h"
#include "server/entries/registry.h"
#include "server/federation/refresh_trigger.h"
#include "server/issuance/issuer.h"
#include "server/zones/zone_reload.h"
#include "server/zones/zone_state.h"

namespace spinel::server {

// The settings of the admin API (from ServerConfig, AdminSettings::FromConfig).
struct AdminSettings {
  common::TrustDomain control;                    // config trust_domain
  std::chrono::seconds default_join_token_ttl{};  // config default_join_token_ttl

  static AdminSettings FromConfig(const ServerConfig& config);
};

// The parts the admin API uses (references; they must outlive the server StartAdminServer
// returns). It is the operator's view of the whole server, so it needs most of them; each is
// named for what the admin API does with it.
struct AdminDeps {
  EntryRegistry& registry;        // entry writes (the zones' registration rules)
  EntryStore& entries;            // entry reads and counts
  AgentStore& agents;             // agents: list, evict, ban; join tokens
  BundleStore& bundles;           // federated bundles (federation RPCs)
  FederationStore& federations;   // federation relationships
  ApprovalStore& approvals;       // step-up approvals: list, approve, deny
  AuditStore& audit;              // reads the audit log and records the operator's actions
  const ZoneState& zones;         // the zones in force
  CaManager& cas;                 // authorities: describe, prepare, activate
  const OwnBundles& own_bundles;  // the own trust domains' bundles (merged over replicas)
  Issuer& issuer;                 // operator-minted SVIDs
  const common::Clock& clock;
  AdminSettings settings;
  // "Refresh now" of the federation refresher; null when none runs (e.g. tests that build
  // the admin service without one): RefreshFederatedBundle is then UNAVAILABLE.
  FederationRefreshTrigger* federation = nullptr;
};

// Operations that belong to the composition root rather than to a component.
struct AdminHooks {
  // ZoneReloader::Reload of the running server; unset: ReloadZones is Unimplemented.
  std::function<absl::StatusOr<ZoneChanges>()> reload_zones;
};

class AdminServiceImpl;

// Builds the admin service and serves it on `socket_path` (an existing stale socket file is
// replaced; the socket is created mode 0600). The returned server must be shut down before
// the parts in `deps` go away.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartAdminServer(
    const AdminDeps& deps, AdminHooks hooks, const std::string& socket_path,
    std::unique_ptr<grpc::Service>* service_out);

}  // namespace spinel::server
