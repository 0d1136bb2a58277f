// Trust zones: each zone is its own SPIFFE trust domain with its own SVID lifetimes, hosting
// nodes, peers and resource rules (../shared/DESIGN.md, "Trust zones"). Zone values come from
// zone files (zone_loader.h); a ZoneSet is one consistent, validated generation of all zones.
//
// Peering is symmetric: when zone A lists B in `peers`, A and B are peers of each other, and
// ZoneSet::PeersOf returns the union of what a zone declared and who declared it. Peering is not
// transitive.
//
// Federation is one-sided and about foreign trust domains (another organisation's SPIFFE
// deployment, not a zone of this set): a zone's `federates_with` lists trust domains whose
// bundles (stored by the server's federation relationships) its workloads receive and whose
// SVIDs they may accept. It never names a zone's trust domain.
//
// ZoneSet is immutable after Create; all const methods are thread-safe. Pointers it returns
// (Zone, Rule) stay valid as long as the ZoneSet lives and is not assigned to.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/selector.h"
#include "common/spiffe_id.h"
#include "common/token_exchange.h"
#include "common/user_token.h"
#include "trust-zones/rule.h"
#include "trust-zones/source_location.h"

namespace spinel::zones {

// A lifetime with a default (used when a registration entry does not ask for one) and a cap.
struct TtlLimit {
  std::chrono::milliseconds default_ttl{0};
  std::chrono::milliseconds max_ttl{0};
};

struct DeclaredPeer {
  std::string name;
  SourceLocation location;
};

struct DeclaredFederation {
  common::TrustDomain trust_domain;
  SourceLocation location;
};

// An external user identity issuer the zone trusts (zone file `trusted_issuers`).
struct TrustedIssuerConfig {
  common::TrustedIssuer issuer;  // issuer URL, accepted audiences, claims carried
  // The JWK Set file: as written when absolute, else joined to the zone file's directory.
  std::string jwks_file;
  SourceLocation location;            // the list entry
  SourceLocation jwks_file_location;  // the `jwks_file` value
};

// Token exchange for the zone's workloads (zone file `delegation`); disabled when absent.
struct DelegationSettings {
  bool enabled = false;
  size_t max_chain = 0;  // 1..common::kMaxDelegationChain workloads in a chain
  TtlLimit token_ttl;    // lifetime of the delegation tokens the zone signs
  SourceLocation location;

  common::DelegationLimits Limits() const {
    return {max_chain, token_ttl.default_ttl, token_ttl.max_ttl};
  }
};

struct Zone {
  std::string name;  // also the file name: <name>.yaml
  common::TrustDomain trust_domain;
  std::string description;
  TtlLimit x509_svid_ttl;
  TtlLimit jwt_svid_ttl;
  // WIT-SVIDs; optional in the zone file (zone_loader.h gives its default).
  TtlLimit wit_svid_ttl;
  std::chrono::milliseconds ca_ttl{0};
  // Selectors an agent must all have to host this zone's workloads; empty means any node.
  common::SelectorSet nodes;
  // Peers as listed in this zone's file.
  std::vector<DeclaredPeer> declared_peers;
  // The symmetric peers (filled by ZoneSet::Create), sorted by name.
  std::vector<std::string> peers;
  // Foreign trust domains this zone federates with, in file order (no duplicates).
  std::vector<DeclaredFederation> federates_with;
  // Resource rules in file order.
  std::vector<Rule> rules;
  // User identity issuers whose tokens the zone's workloads may exchange, in file order.
  std::vector<TrustedIssuerConfig> trusted_issuers;
  DelegationSettings delegation;

  SourceLocation location;               // the `name` key
  SourceLocation trust_domain_location;  // the `trust_domain` key
};

class ZoneSet {
 public:
  // An empty set (no zones): every lookup fails and every access is denied.
  ZoneSet() = default;

  // Checks the rules that span zones and computes symmetric peers. Errors (InvalidArgument)
  // name the file and line: a zone name or trust domain declared twice (both places named), a
  // peer that names no zone (the line of that peer), a `federates_with` trust domain that is
  // the trust domain of a zone of the set (the line of that item and the zone's file).
  static absl::StatusOr<ZoneSet> Create(std::vector<Zone> zones);

  // All zones, sorted by name.
  const std::vector<Zone>& zones() const { return zones_; }
  bool empty() const { return zones_.empty(); }

  // nullptr when there is no such zone.
  const Zone* Find(std::string_view name) const;
  const Zone* FindByTrustDomain(std::string_view trust_domain) const;
  const Zone* FindByTrustDomain(const common::TrustDomain& td) const {
    return FindByTrustDomain(td.name());
  }
  // The zone a SPIFFE ID belongs to (by its trust domain), or nullptr.
  const Zone* ZoneOf(const common::SpiffeId& id) const {
    return FindByTrustDomain(id.trust_domain());
  }

  // The symmetric peers of `zone` sorted by name; empty for an unknown zone.
  const std::vector<std::string>& PeersOf(std::string_view zone) const;
  bool ArePeers(std::string_view a, std::string_view b) const;

  // The foreign trust domains `zone` federates with (file order); empty for an unknown zone.
  std::vector<common::TrustDomain> FederatesWith(std::string_view zone) const;
  // True when `zone` declares `td` in federates_with.
  bool FederatesWith(std::string_view zone, const common::TrustDomain& td) const;

  // True when a node with `node_selectors` (any order, duplicates allowed) has every selector
  // `zone` requires. False for an unknown zone.
  bool MayHost(std::string_view zone, const common::SelectorSet& node_selectors) const;
  static bool MayHost(const Zone& zone, const common::SelectorSet& node_selectors);

 private:
  std::vector<Zone> zones_;
  std::map<std::string, size_t, std::less<>> by_name_;
  std::map<std::string, size_t, std::less<>> by_trust_domain_;
};

}  // namespace spinel::zones
