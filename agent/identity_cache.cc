#include "agent/identity_cache.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "common/strings.h"
#include "trust-zones/zone_loader.h"

namespace spinel::agent {
namespace {

using common::StrCat;

absl::StatusOr<CachedEntry> EntryFromProto(const spinel::v1::Entry& proto) {
  CachedEntry entry;
  entry.id = proto.id();
  if (entry.id.empty()) return absl::InvalidArgumentError("sync: entry without id");
  SPINEL_ASSIGN_OR_RETURN(entry.spiffe_id, common::SpiffeId::Parse(proto.spiffe_id()));
  for (const auto& s : proto.selectors()) {
    SPINEL_ASSIGN_OR_RETURN(common::Selector selector,
                            common::Selector::Parse(StrCat(s.type(), ":", s.value())));
    entry.selectors.push_back(std::move(selector));
  }
  common::Normalize(entry.selectors);
  entry.hint = proto.hint();
  entry.revision = proto.revision_number();
  entry.dns_names.assign(proto.dns_names().begin(), proto.dns_names().end());
  return entry;
}

using PeerMap = std::map<common::TrustDomain, std::set<common::TrustDomain>>;

absl::StatusOr<PeerMap> ParsePeers(const nlohmann::json& doc) {
  if (!doc.contains("zones") || !doc["zones"].is_array()) {
    return absl::InvalidArgumentError("sync: malformed zone policy document");
  }
  std::map<std::string, common::TrustDomain> by_name;
  for (const auto& zone : doc["zones"]) {
    if (!zone.is_object() || !zone.value("name", nlohmann::json()).is_string() ||
        !zone.value("trust_domain", nlohmann::json()).is_string()) {
      return absl::InvalidArgumentError("sync: malformed zone in policy document");
    }
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                            common::TrustDomain::Parse(zone["trust_domain"].get<std::string>()));
    by_name.emplace(zone["name"].get<std::string>(), td);
  }
  PeerMap peers;
  for (const auto& zone : doc["zones"]) {
    auto& set = peers[by_name.at(zone["name"].get<std::string>())];
    for (const auto& peer : zone.value("peers", nlohmann::json::array())) {
      if (peer.is_string() && by_name.count(peer.get<std::string>())) {
        set.insert(by_name.at(peer.get<std::string>()));
      }
    }
  }
  return peers;
}

// Zone trust domain -> the foreign trust domains of its "federates_with" (absent: none).
absl::StatusOr<PeerMap> ParseFederations(const nlohmann::json& doc) {
  PeerMap out;
  for (const auto& zone : doc["zones"]) {  // shape checked by ParsePeers
    const nlohmann::json list = zone.value("federates_with", nlohmann::json::array());
    if (!list.is_array()) {
      return absl::InvalidArgumentError("sync: federates_with in policy document is not a list");
    }
    if (list.empty()) continue;
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                            common::TrustDomain::Parse(zone["trust_domain"].get<std::string>()));
    for (const auto& name : list) {
      if (!name.is_string()) {
        return absl::InvalidArgumentError("sync: federates_with item in policy document");
      }
      SPINEL_ASSIGN_OR_RETURN(common::TrustDomain foreign,
                              common::TrustDomain::Parse(name.get<std::string>()));
      out[td].insert(std::move(foreign));
    }
  }
  return out;
}

// The ZoneSet of the document's "zone_files" ([{"file":..,"text":..}]); null without them.
absl::StatusOr<std::shared_ptr<const zones::ZoneSet>> ParseZoneFiles(const nlohmann::json& doc) {
  if (!doc.contains("zone_files")) return std::shared_ptr<const zones::ZoneSet>();
  const nlohmann::json& files = doc["zone_files"];
  if (!files.is_array()) return absl::InvalidArgumentError("sync: zone_files is not an array");
  std::vector<zones::ZoneSource> sources;
  for (const auto& file : files) {
    if (!file.is_object() || !file.value("file", nlohmann::json()).is_string() ||
        !file.value("text", nlohmann::json()).is_string()) {
      return absl::InvalidArgumentError("sync: malformed zone file in policy document");
    }
    sources.push_back({file["file"].get<std::string>(), file["text"].get<std::string>()});
  }
  absl::StatusOr<zones::ZoneSet> set = zones::BuildZoneSet(std::move(sources));
  if (!set.ok()) {
    return absl::InvalidArgumentError(
        StrCat("sync: zone files in policy document: ", set.status().message()));
  }
  return std::make_shared<const zones::ZoneSet>(*std::move(set));
}

// Parses `policy` into `next` (peers and zones) unless it is the document `next` already has.
absl::Status ApplyPolicy(const std::string& policy, CacheSnapshot& next) {
  if (policy.empty() || policy == next.policy) return absl::OkStatus();
  nlohmann::json doc = nlohmann::json::parse(policy, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("sync: malformed zone policy document");
  }
  SPINEL_ASSIGN_OR_RETURN(next.peers, ParsePeers(doc));
  SPINEL_ASSIGN_OR_RETURN(next.federates_with, ParseFederations(doc));
  SPINEL_ASSIGN_OR_RETURN(next.zones, ParseZoneFiles(doc));
  next.policy = policy;
  return absl::OkStatus();
}

// A WIT-SVID and the wish for one survive an update of their entry; the WIT-SVID only while
// the entry keeps its SPIFFE ID.
void CarryWitSvid(const CachedEntry& previous, CachedEntry& entry) {
  entry.wit_wanted = previous.wit_wanted;
  if (previous.wit && previous.wit->id == entry.spiffe_id) entry.wit = previous.wit;
}

absl::Status ApplyEntries(const spinel::v1::SyncUpdate& update, CacheSnapshot& next) {
  std::map<std::string, CachedEntry> entries;
  if (!update.full_snapshot()) {
    for (CachedEntry& e : next.entries) entries.emplace(e.id, std::move(e));
  }
  std::map<std::string, std::shared_ptr<const X509SvidRecord>> old_svids;
  std::map<std::string, CachedEntry> old_wits;  // entries with a WIT-SVID or the wish for one
  for (const CachedEntry& e : next.entries) {
    if (e.svid) old_svids.emplace(e.id, e.svid);
    if (e.wit || e.wit_wanted) old_wits.emplace(e.id, e);
  }
  for (const auto& [id, e] : entries) {
    if (e.wit || e.wit_wanted) old_wits.insert_or_assign(id, e);
  }
  for (const spinel::v1::Entry& proto : update.entries()) {
    SPINEL_ASSIGN_OR_RETURN(CachedEntry entry, EntryFromProto(proto));
    auto previous = entries.find(entry.id);
    if (previous != entries.end() && previous->second.svid &&
        previous->second.spiffe_id == entry.spiffe_id) {
      entry.svid = previous->second.svid;  // same identity: the SVID stays valid
    } else if (auto old = old_svids.find(entry.id);
               old != old_svids.end() && old->second->id == entry.spiffe_id) {
      entry.svid = old->second;
    }
    if (auto old = old_wits.find(entry.id); old != old_wits.end()) {
      CarryWitSvid(old->second, entry);
    }
    entries.insert_or_assign(entry.id, std::move(entry));
  }
  for (const std::string& id : update.removed_entry_ids()) entries.erase(id);
  next.entries.clear();
  for (auto& [id, entry] : entries) next.entries.push_back(std::move(entry));
  return absl::OkStatus();
}

absl::Status ApplyBundles(const spinel::v1::SyncUpdate& update, CacheSnapshot& next) {
  if (update.full_snapshot()) next.bundles.clear();
  for (const spinel::v1::Bundle& proto : update.bundles()) {
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                            common::TrustDomain::Parse(proto.trust_domain()));
    SPINEL_ASSIGN_OR_RETURN(common::Bundle bundle, common::Bundle::Parse(td, proto.jwks()));
    next.bundles.insert_or_assign(td, std::move(bundle));
  }
  for (const std::string& name : update.removed_trust_domains()) {
    SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td, common::TrustDomain::Parse(name));
    next.bundles.erase(td);
  }
  return absl::OkStatus();
}

bool SameEntry(const CachedEntry& a, const CachedEntry& b) {
  return a.id == b.id && a.spiffe_id == b.spiffe_id && a.selectors == b.selectors &&
         a.hint == b.hint && a.revision == b.revision && a.dns_names == b.dns_names &&
         a.svid == b.svid && a.wit == b.wit && a.wit_wanted == b.wit_wanted;
}

// True when `next` serves exactly what `current` does: nothing to publish.
bool SameContent(const CacheSnapshot& current, const CacheSnapshot& next) {
  if (current.synced != next.synced || current.peers != next.peers ||
      current.federates_with != next.federates_with || current.policy != next.policy ||
      current.entries.size() != next.entries.size() ||
      current.bundles.size() != next.bundles.size()) {
    return false;
  }
  for (size_t i = 0; i < current.entries.size(); ++i) {
    if (!SameEntry(current.entries[i], next.entries[i])) return false;
  }
  for (auto a = current.bundles.begin(), b = next.bundles.begin(); a != current.bundles.end();
       ++a, ++b) {
    if (a->first != b->first || !a->second.Equals(b->second)) return false;
  }
  return true;
}

}  // namespace

std::vector<const CachedEntry*> CacheSnapshot::Matching(const common::SelectorSet& workload) const {
  std::vector<const CachedEntry*> out;
  for (const CachedEntry& entry : entries) {
    if (common::IsSubset(entry.selectors, workload)) out.push_back(&entry);
  }
  return out;
}

std::set<common::TrustDomain> CacheSnapshot::TrustedDomains(
    const std::vector<const CachedEntry*>& matched) const {
  std::set<common::TrustDomain> out;
  for (const CachedEntry* entry : matched) {
    const common::TrustDomain& td = entry->spiffe_id.trust_domain();
    out.insert(td);
    auto it = peers.find(td);
    if (it != peers.end()) out.insert(it->second.begin(), it->second.end());
    auto federated = federates_with.find(td);
    if (federated != federates_with.end()) {
      out.insert(federated->second.begin(), federated->second.end());
    }
  }
  return out;
}

std::set<common::TrustDomain> CacheSnapshot::FederatedDomains(
    const std::vector<const CachedEntry*>& matched) const {
  std::set<common::TrustDomain> out = TrustedDomains(matched);
  for (const CachedEntry* entry : matched) out.erase(entry->spiffe_id.trust_domain());
  return out;
}

IdentityCache::IdentityCache() : snapshot_(std::make_shared<CacheSnapshot>()) {}

absl::Status IdentityCache::ApplySyncUpdate(const spinel::v1::SyncUpdate& update) {
  uint64_t generation = 0;
  {
    common::MutexLock lock(mutex_);
    auto next = std::make_shared<CacheSnapshot>(*snapshot_);
    SPINEL_RETURN_IF_ERROR(ApplyEntries(update, *next));
    SPINEL_RETURN_IF_ERROR(ApplyBundles(update, *next));
    SPINEL_RETURN_IF_ERROR(ApplyPolicy(update.policy(), *next));
    if (update.full_snapshot()) next->synced = true;
    if (SameContent(*snapshot_, *next)) return absl::OkStatus();  // e.g. a repeated snapshot
    generation = PublishLocked(std::move(next));
  }
  Notify(generation);
  return absl::OkStatus();
}

void IdentityCache::StoreX509Svids(std::vector<X509SvidRecord> svids) {
  if (svids.empty()) return;
  common::MutexLock lock(mutex_);
  auto next = std::make_shared<CacheSnapshot>(*snapshot_);
  bool stored = false;
  for (X509SvidRecord& svid : svids) {
    auto entry =
        std::lower_bound(next->entries.begin(), next->entries.end(), svid.entry_id,
                         [](const CachedEntry& e, const std::string& id) { return e.id < id; });
    if (entry == next->entries.end() || entry->id != svid.entry_id || entry->spiffe_id != svid.id) {
      continue;  // the entry went away or changed identity while the CSR was in flight
    }
    entry->svid = std::make_shared<const X509SvidRecord>(std::move(svid));
    stored = true;
  }
  if (!stored) return;
  const uint64_t generation = PublishLocked(std::move(next));
  lock.Unlock();
  Notify(generation);
}

void IdentityCache::DropExpired(common::TimePoint now) {
  common::MutexLock lock(mutex_);
  auto expired = [now](const CachedEntry& e) {
    return (e.svid && e.svid->expires_at <= now) || (e.wit && e.wit->expires_at <= now);
  };
  bool any = std::any_of(snapshot_->entries.begin(), snapshot_->entries.end(), expired);
  if (!any) return;
  auto next = std::make_shared<CacheSnapshot>(*snapshot_);
  for (CachedEntry& entry : next->entries) {
    if (entry.svid && entry.svid->expires_at <= now) entry.svid.reset();
    if (entry.wit && entry.wit->expires_at <= now) entry.wit.reset();
  }
  const uint64_t generation = PublishLocked(std::move(next));
  lock.Unlock();
  Notify(generation);
}

std::shared_ptr<const CacheSnapshot> IdentityCache::Snapshot() const {
  common::MutexLock lock(mutex_);
  return snapshot_;
}

uint64_t IdentityCache::Watch(Watcher watcher) {
  common::MutexLock lock(watchers_mutex_);
  uint64_t id = next_watcher_++;
  watchers_.emplace(id, std::move(watcher));
  return id;
}

void IdentityCache::Unwatch(uint64_t id) {
  common::MutexLock lock(watchers_mutex_);
  watchers_.erase(id);
}

uint64_t IdentityCache::PublishLocked(std::shared_ptr<CacheSnapshot> next) {
  next->generation = snapshot_->generation + 1;
  snapshot_ = std::move(next);
  return snapshot_->generation;
}

void IdentityCache::Notify(uint64_t generation) {
  std::vector<Watcher> watchers;
  {
    common::MutexLock lock(watchers_mutex_);
    for (const auto& [id, watcher] : watchers_) watchers.push_back(watcher);
  }
  for (const Watcher& watcher : watchers) watcher(generation);
}

}  // namespace spinel::agent
