#include "server/sync/agent_sync.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/log.h"
#include "common/status_macros.h"
#include "server/api/agent/node_attestation.h"
#include "server/api/proto_convert.h"

namespace spinel::server {

absl::StatusOr<std::vector<common::SpiffeId>> AgentView::ParentIdsOf(
    const AttestedAgent& agent) const {
  std::vector<common::SpiffeId> parents = {agent.spiffe_id};
  EntryFilter aliases;
  aliases.parent_id = ServerId(control_);
  SPINEL_ASSIGN_OR_RETURN(EntryPage page, datastore_.ListEntries(aliases, PageRequest{}));
  for (const RegistrationEntry& alias : page.entries) {
    if (common::IsSubset(alias.selectors, agent.selectors)) parents.push_back(alias.spiffe_id);
  }
  return parents;
}

bool AgentView::Authorizes(const AttestedAgent& agent, const std::vector<common::SpiffeId>& parents,
                           const RegistrationEntry& entry) const {
  const int64_t now = common::ToUnixSeconds(clock_.Now());
  if (entry.expires_at && *entry.expires_at <= now) return false;
  std::shared_ptr<const zones::ZoneSet> zones = zones_.Get();
  const zones::Zone* zone = zones->ZoneOf(entry.spiffe_id);
  if (zone == nullptr || !zones::ZoneSet::MayHost(*zone, agent.selectors)) return false;
  return std::find(parents.begin(), parents.end(), entry.parent_id) != parents.end();
}

absl::StatusOr<AgentViewData> AgentView::Compute(const AttestedAgent& agent) const {
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::SpiffeId> parents, ParentIdsOf(agent));
  SPINEL_ASSIGN_OR_RETURN(std::vector<RegistrationEntry> entries,
                          datastore_.ListEntriesByParents(parents));
  const int64_t now = common::ToUnixSeconds(clock_.Now());
  std::shared_ptr<const zones::ZoneSet> zones = zones_.Get();
  std::erase_if(entries, [&](const RegistrationEntry& entry) {
    if (entry.expires_at && *entry.expires_at <= now) return true;
    const zones::Zone* zone = zones->ZoneOf(entry.spiffe_id);
    return zone == nullptr || !zones::ZoneSet::MayHost(*zone, agent.selectors);
  });
  std::vector<spinel::v1::Bundle> bundles = Bundles();
  SPINEL_ASSIGN_OR_RETURN(std::vector<spinel::v1::Bundle> federated,
                          FederatedBundlesFor(*zones, entries));
  for (spinel::v1::Bundle& bundle : federated) bundles.push_back(std::move(bundle));
  return AgentViewData{std::move(parents), std::move(entries), std::move(bundles),
                       PolicyDocument()};
}

absl::StatusOr<std::vector<spinel::v1::Bundle>> AgentView::FederatedBundlesFor(
    const zones::ZoneSet& zones, const std::vector<RegistrationEntry>& entries) const {
  std::set<std::string> zone_names;
  for (const RegistrationEntry& entry : entries) {
    if (const zones::Zone* zone = zones.ZoneOf(entry.spiffe_id)) zone_names.insert(zone->name);
  }
  std::set<common::TrustDomain> foreign;
  for (const std::string& name : zone_names) {
    for (const common::TrustDomain& td : zones.FederatesWith(name)) foreign.insert(td);
  }
  if (foreign.empty()) return std::vector<spinel::v1::Bundle>{};
  // Never let a stored bundle stand in for one of this server's own trust domains.
  foreign.erase(control_);
  for (const common::TrustDomain& own : cas_.TrustDomains()) foreign.erase(own);
  for (const zones::Zone& zone : zones.zones()) foreign.erase(zone.trust_domain);
  return federated_.For(foreign);
}

std::vector<spinel::v1::Bundle> AgentView::Bundles() const {
  std::vector<spinel::v1::Bundle> out;
  std::vector<common::TrustDomain> tds = cas_.TrustDomains();
  std::stable_partition(tds.begin(), tds.end(),
                        [&](const common::TrustDomain& td) { return td == control_; });
  for (const common::TrustDomain& td : tds) {
    std::shared_ptr<const common::Bundle> own = OwnBundle(merger_, cas_, td);
    if (!own) continue;
    absl::StatusOr<spinel::v1::Bundle> bundle = BundleToProto(*own);
    if (bundle.ok())
      out.push_back(std::move(*bundle));
    else
      LOG_ERROR("cannot encode bundle", {{"trust_domain", td.name()}});
  }
  return out;
}

std::string AgentView::PolicyDocument() const {
  std::shared_ptr<const ZoneGeneration> generation = zones_.Generation();
  nlohmann::json doc = {{"zones", nlohmann::json::array()},
                        {"zone_files", nlohmann::json::array()}};
  for (const zones::Zone& zone : generation->set.zones()) {
    nlohmann::json federates_with = nlohmann::json::array();
    for (const zones::DeclaredFederation& federation : zone.federates_with) {
      federates_with.push_back(federation.trust_domain.name());
    }
    doc["zones"].push_back({{"name", zone.name},
                            {"trust_domain", zone.trust_domain.name()},
                            {"peers", generation->set.PeersOf(zone.name)},
                            {"federates_with", std::move(federates_with)}});
  }
  for (const zones::ZoneSource& source : generation->sources) {
    doc["zone_files"].push_back({{"file", source.file}, {"text", source.text}});
  }
  return doc.dump();
}

SyncHub::SyncHub() : thread_([this] { DispatchLoop(); }) {}

SyncHub::~SyncHub() { Stop(); }

void SyncHub::Subscribe(SyncSubscriber* subscriber) {
  common::MutexLock lock(mutex_);
  subscribers_.insert(subscriber);
}

void SyncHub::Unsubscribe(SyncSubscriber* subscriber) {
  common::MutexLock dispatch(dispatch_mutex_);
  common::MutexLock lock(mutex_);
  subscribers_.erase(subscriber);
}

void SyncHub::NotifyChanged() {
  {
    common::MutexLock lock(mutex_);
    pending_all_ = true;
    pending_parents_.clear();
  }
  wake_.NotifyOne();
}

void SyncHub::NotifyEntriesChanged(const std::set<std::string>& parent_ids) {
  if (parent_ids.empty()) return;
  {
    common::MutexLock lock(mutex_);
    if (pending_all_) return;
    pending_parents_.insert(parent_ids.begin(), parent_ids.end());
  }
  wake_.NotifyOne();
}

size_t SyncHub::subscriber_count() const {
  common::MutexLock lock(mutex_);
  return subscribers_.size();
}

void SyncHub::Stop() {
  {
    common::MutexLock lock(mutex_);
    stopping_ = true;
  }
  wake_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

bool SyncHub::WaitForWork() {
  common::MutexLock lock(mutex_);
  wake_.Wait(mutex_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return pending_all_ || !pending_parents_.empty() || stopping_;
  });
  return !stopping_;
}

void SyncHub::DispatchLoop() {
  while (WaitForWork()) {
    common::MutexLock dispatch(dispatch_mutex_);  // Unsubscribe waits for this pass
    std::vector<SyncSubscriber*> targets;
    bool all = false;
    std::set<std::string> parents;
    {
      common::MutexLock lock(mutex_);
      // Taken only now: notifications that arrived meanwhile are part of this pass.
      all = std::exchange(pending_all_, false);
      parents = std::exchange(pending_parents_, {});
      targets.assign(subscribers_.begin(), subscribers_.end());
    }
    for (SyncSubscriber* subscriber : targets) {
      if (all || subscriber->ConcernsParents(parents)) subscriber->Refresh();
    }
  }
}

}  // namespace spinel::server
