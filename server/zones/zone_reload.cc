#include "server/zones/zone_reload.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "trust-zones/delegation_config.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

absl::Status CheckAgainstConfig(const ServerConfig& config, const zones::ZoneSet& zones) {
  for (const auto& [zone, upstream] : config.upstream_authorities) {
    if (zones.Find(zone) == nullptr) {
      return absl::InvalidArgumentError(
          StrCat("upstream_authorities names zone ", Quote(zone), " which does not exist"));
    }
  }
  for (const zones::Zone& zone : zones.zones()) {
    if (zone.trust_domain == config.trust_domain) {
      return absl::InvalidArgumentError(
          StrCat(zone.trust_domain_location.ToString(), ": trust_domain: zone ", zone.name,
                 " uses the control-plane trust domain ", config.trust_domain.name(),
                 "; zones need their own trust domains"));
    }
    for (const zones::DeclaredFederation& federation : zone.federates_with) {
      if (federation.trust_domain != config.trust_domain) continue;
      return absl::InvalidArgumentError(StrCat(federation.location.ToString(), ": federates_with: ",
                                               Quote(federation.trust_domain.name()),
                                               " is the control-plane trust domain; ",
                                               "zones federate only with foreign trust domains"));
    }
  }
  return absl::OkStatus();
}

// Zone name -> source text.
std::map<std::string, std::string> TextByZone(const ZoneGeneration& generation) {
  std::map<std::string, std::string> out;
  for (const zones::ZoneSource& source : generation.sources) {
    std::string name = source.file.substr(0, source.file.rfind(".yaml"));
    out.emplace(std::move(name), source.text);
  }
  return out;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ",") + name;
  return out.empty() ? "-" : out;
}

}  // namespace

absl::StatusOr<ZoneGeneration> ReadZoneGeneration(const std::string& dir) {
  SPINEL_ASSIGN_OR_RETURN(std::vector<zones::ZoneSource> sources, zones::ReadZoneDir(dir));
  // Built from the paths as read, so errors name the file an operator can open.
  SPINEL_ASSIGN_OR_RETURN(zones::ZoneSet set, zones::BuildZoneSet(sources));
  for (zones::ZoneSource& source : sources) {
    source.file = std::filesystem::path(source.file).filename().string();
  }
  return ZoneGeneration{std::move(set), std::move(sources)};
}

absl::StatusOr<ZoneGeneration> LoadZoneGeneration(const ServerConfig& config) {
  SPINEL_ASSIGN_OR_RETURN(ZoneGeneration generation, ReadZoneGeneration(config.zones_dir));
  SPINEL_RETURN_IF_ERROR(CheckAgainstConfig(config, generation.set));
  for (const zones::Zone& zone : generation.set.zones()) {
    SPINEL_RETURN_IF_ERROR(zones::CheckTrustedIssuerKeys(zone));
  }
  return generation;
}

std::vector<TrustDomainCaConfig> CaConfigs(const ServerConfig& config,
                                           const zones::ZoneSet& zones) {
  std::vector<TrustDomainCaConfig> out;
  out.push_back({config.trust_domain, config.ca_ttl, "", ""});
  for (const zones::Zone& zone : zones.zones()) {
    TrustDomainCaConfig ca{zone.trust_domain,
                           std::chrono::duration_cast<common::Duration>(zone.ca_ttl), "", ""};
    auto upstream = config.upstream_authorities.find(zone.name);
    if (upstream != config.upstream_authorities.end()) {
      ca.upstream_cert_path = upstream->second.cert_path;
      ca.upstream_key_path = upstream->second.key_path;
    }
    out.push_back(ca);
  }
  return out;
}

ZoneChanges DiffZones(const ZoneGeneration& before, const ZoneGeneration& after) {
  ZoneChanges changes;
  const std::map<std::string, std::string> old_text = TextByZone(before);
  const std::map<std::string, std::string> new_text = TextByZone(after);
  for (const zones::Zone& zone : after.set.zones()) {
    const zones::Zone* old = before.set.Find(zone.name);
    if (old == nullptr) {
      changes.added.push_back(zone.name);
      continue;
    }
    auto was = old_text.find(zone.name);
    auto now = new_text.find(zone.name);
    const bool text_differs =
        was == old_text.end() || now == new_text.end() || was->second != now->second;
    if (text_differs || old->peers != zone.peers) changes.changed.push_back(zone.name);
  }
  for (const zones::Zone& zone : before.set.zones()) {
    if (after.set.Find(zone.name) == nullptr) changes.removed.push_back(zone.name);
  }
  return changes;  // zones() is sorted by name, so every list is too
}

absl::Status ZoneReloader::CheckRemovals(const zones::ZoneSet& before,
                                         const zones::ZoneSet& after) {
  for (const zones::Zone& zone : before.zones()) {
    if (after.FindByTrustDomain(zone.trust_domain) != nullptr) continue;
    SPINEL_ASSIGN_OR_RETURN(int64_t entries,
                            datastore_.CountEntries(EntryFilter{.zone = zone.trust_domain.name()}));
    if (entries == 0) continue;
    const zones::Zone* renamed = after.Find(zone.name);
    std::string what = renamed == nullptr
                           ? StrCat("zone ", Quote(zone.name), " cannot be removed")
                           : StrCat("zone ", Quote(zone.name), " cannot move from trust domain ",
                                    zone.trust_domain.name(), " to ", renamed->trust_domain.name());
    return absl::FailedPreconditionError(
        StrCat(what, ": it still has ", entries, " registration ",
               entries == 1 ? "entry" : "entries", " in ", zone.trust_domain.name(),
               "; delete them first (the zones in force are unchanged)"));
  }
  return absl::OkStatus();
}

absl::Status ZoneReloader::AddAuthorities(const zones::ZoneSet& next) {
  std::vector<TrustDomainCaConfig> added;
  for (const TrustDomainCaConfig& ca : CaConfigs(config_, next)) {
    if (cas_.Find(ca.trust_domain) == nullptr) added.push_back(ca);
  }
  if (added.empty()) return absl::OkStatus();
  return cas_.AddTrustDomains(added);
}

absl::StatusOr<ZoneChanges> ZoneReloader::Reload() {
  common::MutexLock lock(mutex_);
  SPINEL_ASSIGN_OR_RETURN(ZoneGeneration next, LoadZoneGeneration(config_));
  std::shared_ptr<const ZoneGeneration> current = zones_.Generation();
  ZoneChanges changes = DiffZones(*current, next);
  if (changes.empty()) {
    LOG_INFO("zones reloaded: no changes", {{"zones", std::to_string(next.set.zones().size())}});
    return changes;
  }
  SPINEL_RETURN_IF_ERROR(CheckRemovals(current->set, next.set));
  SPINEL_RETURN_IF_ERROR(AddAuthorities(next.set));
  const size_t count = next.set.zones().size();
  zones_.Replace(std::move(next));
  feed_.PublishLocal(ChangeEvent{.kind = ChangeKind::kZones});
  LOG_INFO("zones reloaded", {{"zones", std::to_string(count)},
                              {"added", JoinNames(changes.added)},
                              {"removed", JoinNames(changes.removed)},
                              {"changed", JoinNames(changes.changed)}});
  return changes;
}

}  // namespace spinel::server
