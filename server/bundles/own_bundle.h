// The SPIFFE bundles this server publishes for its own trust domains (a zone's, or the control
// plane's), as agents, the federation bundle endpoints and the HTTPS /bundle path get them. The
// one place that says where those bundles come from: merged over every server replica
// (server/bundles/bundle_merger.h) when the merger runs, else this replica's own snapshot.
#pragma once

#include <chrono>
#include <memory>

#include "absl/status/statusor.h"
#include "common/bundle.h"
#include "common/delegation_token.h"
#include "common/spiffe_id.h"
#include "server/ca/ca_manager.h"
#include "server/ca/zone_authority.h"

namespace spinel::server {

class BundleMerger;

// The spiffe_refresh_hint published with a bundle: a fifteenth of the active X.509 CA's
// lifetime, at most 300 s and at least 1 s (300 s without an active CA). New authorities are
// published a third of the CA lifetime before they sign, so federated clients polling at this
// interval see them at least 5 refresh hints in advance (checklist G10).
std::chrono::seconds BundleRefreshHint(const AuthoritySnapshot& snapshot);

// A read-only view of the own trust domains' bundles. Holds references: `cas` and `merger`
// must outlive it. `merger` may be null (tests that build services without one): the bundles
// are then the local snapshots. Thread-safe, as CaManager and BundleMerger are.
class OwnBundles {
 public:
  OwnBundles(const CaManager& cas, const BundleMerger* merger) : cas_(cas), merger_(merger) {}

  // Whether the server has an authority for `td` (it is one of its own trust domains).
  bool Signs(const common::TrustDomain& td) const { return cas_.Snapshot(td) != nullptr; }
  // The bundle of `td` as agents are served it (OwnBundle, bundle_merger.h: sequence set, no
  // refresh hint); nullptr when the server has no authority for `td`.
  std::shared_ptr<const common::Bundle> Current(const common::TrustDomain& td) const;
  // The bundle of `td` as it is published to federated servers: Current() with
  // spiffe_refresh_hint = BundleRefreshHint of this replica's CA. NotFound when the server has
  // no authority for `td`.
  absl::StatusOr<common::Bundle> Published(const common::TrustDomain& td) const;

 private:
  const CaManager& cas_;
  const BundleMerger* const merger_;
};

// The keys that verify delegation tokens signed by this server's zones (token exchange): each
// zone signs them with its JWT-SVID key, so they are the jwt-svid authorities of the zone's
// bundle as OwnBundles serves it (every replica's keys when merged). NotFound for a trust
// domain this server has no authority for, or a kid its bundle lacks. Thread-safe.
class OwnDelegationAuthorities final : public common::DelegationAuthoritySource {
 public:
  explicit OwnDelegationAuthorities(const OwnBundles& bundles) : bundles_(bundles) {}
  absl::StatusOr<common::PublicKey> FindDelegationAuthority(const common::TrustDomain& trust_domain,
                                                            std::string_view kid) const override;

 private:
  const OwnBundles& bundles_;
};

}  // namespace spinel::server
