#include "trust-zones/zone.h"

#include <algorithm>
#include <set>

#include "common/strings.h"

namespace spinel::zones {
namespace {

using common::Quote;
using common::StrCat;

absl::Status ErrorAt(const SourceLocation& at, std::string_view key, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat(at.ToString(), ": ", key, ": ", problem));
}

// Fills `index` with key -> position in `zones`; a key seen twice is an error naming both.
template <typename KeyFn, typename LocationFn>
absl::Status IndexUnique(const std::vector<Zone>& zones, std::string_view what,
                         std::string_view key_name, KeyFn key_of, LocationFn location_of,
                         std::map<std::string, size_t, std::less<>>& index) {
  for (size_t i = 0; i < zones.size(); ++i) {
    const std::string& key = key_of(zones[i]);
    auto [it, inserted] = index.emplace(key, i);
    if (inserted) continue;
    return ErrorAt(location_of(zones[i]), key_name,
                   StrCat(what, " ", Quote(key), " is already declared in ",
                          location_of(zones[it->second]).ToString()));
  }
  return absl::OkStatus();
}

// A federates_with item must be foreign: not the trust domain of any zone of the set.
absl::Status CheckFederationsForeign(
    const std::vector<Zone>& zones,
    const std::map<std::string, size_t, std::less<>>& by_trust_domain) {
  for (const Zone& zone : zones) {
    for (const DeclaredFederation& federation : zone.federates_with) {
      auto it = by_trust_domain.find(federation.trust_domain.name());
      if (it == by_trust_domain.end()) continue;
      const Zone& owner = zones[it->second];
      return ErrorAt(federation.location, "federates_with",
                     StrCat("trust domain ", Quote(federation.trust_domain.name()),
                            " is the trust domain of zone ", owner.name, " (",
                            owner.trust_domain_location.ToString(),
                            "); federation is for foreign trust domains, zones use peers"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ZoneSet> ZoneSet::Create(std::vector<Zone> zones) {
  std::sort(zones.begin(), zones.end(),
            [](const Zone& a, const Zone& b) { return a.name < b.name; });
  ZoneSet set;
  absl::Status status = IndexUnique(
      zones, "zone name", "name", [](const Zone& z) -> const std::string& { return z.name; },
      [](const Zone& z) -> const SourceLocation& { return z.location; }, set.by_name_);
  if (!status.ok()) return status;
  status = IndexUnique(
      zones, "trust domain", "trust_domain",
      [](const Zone& z) -> const std::string& { return z.trust_domain.name(); },
      [](const Zone& z) -> const SourceLocation& { return z.trust_domain_location; },
      set.by_trust_domain_);
  if (!status.ok()) return status;
  status = CheckFederationsForeign(zones, set.by_trust_domain_);
  if (!status.ok()) return status;

  std::vector<std::set<std::string>> peers(zones.size());
  for (size_t i = 0; i < zones.size(); ++i) {
    for (const DeclaredPeer& peer : zones[i].declared_peers) {
      auto it = set.by_name_.find(peer.name);
      if (it == set.by_name_.end()) {
        return ErrorAt(peer.location, "peers",
                       StrCat("unknown zone ", Quote(peer.name), " (no ", peer.name,
                              ".yaml among the zone files)"));
      }
      if (it->second == i) return ErrorAt(peer.location, "peers", "a zone cannot peer with itself");
      peers[i].insert(peer.name);
      peers[it->second].insert(zones[i].name);
    }
  }
  for (size_t i = 0; i < zones.size(); ++i) {
    zones[i].peers.assign(peers[i].begin(), peers[i].end());
    common::Normalize(zones[i].nodes);  // MayHost relies on it
  }
  set.zones_ = std::move(zones);
  return set;
}

const Zone* ZoneSet::Find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &zones_[it->second];
}

const Zone* ZoneSet::FindByTrustDomain(std::string_view trust_domain) const {
  auto it = by_trust_domain_.find(trust_domain);
  return it == by_trust_domain_.end() ? nullptr : &zones_[it->second];
}

const std::vector<std::string>& ZoneSet::PeersOf(std::string_view zone) const {
  static const std::vector<std::string> kNone;
  const Zone* z = Find(zone);
  return z == nullptr ? kNone : z->peers;
}

bool ZoneSet::ArePeers(std::string_view a, std::string_view b) const {
  const std::vector<std::string>& peers = PeersOf(a);
  return std::binary_search(peers.begin(), peers.end(), b);
}

std::vector<common::TrustDomain> ZoneSet::FederatesWith(std::string_view zone) const {
  std::vector<common::TrustDomain> out;
  if (const Zone* z = Find(zone); z != nullptr) {
    for (const DeclaredFederation& federation : z->federates_with) {
      out.push_back(federation.trust_domain);
    }
  }
  return out;
}

bool ZoneSet::FederatesWith(std::string_view zone, const common::TrustDomain& td) const {
  const Zone* z = Find(zone);
  return z != nullptr &&
         std::any_of(z->federates_with.begin(), z->federates_with.end(),
                     [&](const DeclaredFederation& f) { return f.trust_domain == td; });
}

bool ZoneSet::MayHost(std::string_view zone, const common::SelectorSet& node_selectors) const {
  const Zone* z = Find(zone);
  return z != nullptr && MayHost(*z, node_selectors);
}

bool ZoneSet::MayHost(const Zone& zone, const common::SelectorSet& node_selectors) {
  if (zone.nodes.empty()) return true;
  common::SelectorSet have = node_selectors;
  common::Normalize(have);
  return common::IsSubset(zone.nodes, have);
}

}  // namespace spinel::zones
