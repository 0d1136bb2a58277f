// What each agent is served, and the push of changes to connected agents.
//
// AgentView computes, for one attested agent, exactly the entries it is authorized for:
//   - entries whose parent is the agent's ID, and
//   - entries whose parent is a node alias whose selectors are all among the agent's node
//     selectors,
// minus entries that have expired and entries of zones whose `nodes` selectors the agent's
// node lacks (placement), plus the bundles of the control plane and of every zone, the stored
// bundles of the foreign trust domains that the zones of those entries federate with (zone
// `federates_with`; a stored bundle no such zone federates with is not sent, nor one named
// like a trust domain of this server), and the policy document (zone peering and federation,
// to choose federated bundles, and the zone files).
//
// SyncHub wakes connected agent streams when entries, agents, bundles or zones change; each
// stream then recomputes its view and sends only the difference (see sync_stream.h). Only the
// change feed wakes it: its wake-ups are private to ChangeWakeup (change_wakeup.h), the
// ChangeFeed subscriber that maps each batch of changes to them. An entry change under known
// parents wakes only the streams of agents that have one of those parents
// (NotifyEntriesChanged); everything else wakes every stream (NotifyChanged).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "agent.pb.h"
#include "common/mutex.h"
#include "server/bundles/bundle_merger.h"
#include "server/bundles/federated_bundles.h"
#include "server/ca/ca_manager.h"
#include "server/datastore/datastore.h"
#include "server/zones/zone_state.h"

namespace spinel::server {

struct AgentViewData {
  // The parents whose entries the agent is served: its own ID and the node aliases it matches.
  std::vector<common::SpiffeId> parent_ids;
  std::vector<RegistrationEntry> entries;   // in id order
  std::vector<spinel::v1::Bundle> bundles;  // control plane first, then zones, then foreign
  std::string policy;                       // PolicyDocument() (JSON)
};

class AgentView {
 public:
  AgentView(Datastore& datastore, const ZoneState& zones, CaManager& cas,
            common::TrustDomain control, const common::Clock& clock)
      : datastore_(datastore),
        zones_(zones),
        cas_(cas),
        control_(std::move(control)),
        clock_(clock),
        federated_(datastore) {}

  // The entries, bundles and policy `agent` is served now.
  absl::StatusOr<AgentViewData> Compute(const AttestedAgent& agent) const;
  // The parents whose entries `agent` may be served: its own ID and the node aliases whose
  // selectors its node has (one datastore query).
  absl::StatusOr<std::vector<common::SpiffeId>> ParentIdsOf(const AttestedAgent& agent) const;
  // True when `agent`, whose ParentIdsOf are `parents`, may be served `entry` now (used again
  // at signing time; a batch of CSRs looks the parents up once).
  bool Authorizes(const AttestedAgent& agent, const std::vector<common::SpiffeId>& parents,
                  const RegistrationEntry& entry) const;
  // The bundles of the control plane and every zone, as OwnBundle() gives them (merged over
  // the replicas once SetBundleMerger was called).
  std::vector<spinel::v1::Bundle> Bundles() const;
  // Call before serving; `merger` outlives the view.
  void SetBundleMerger(const BundleMerger* merger) { merger_ = merger; }
  // The policy document every agent is sent (JSON), from one zone generation:
  //   {"zones": [{"name": N, "trust_domain": TD, "peers": [symmetric peers],
  //               "federates_with": [foreign trust domains]}, ...],
  //    "zone_files": [{"file": "inference.yaml", "text": "<YAML>"}, ...]}
  // zones sorted by name, zone_files in file-name order; the agent rebuilds the server's
  // ZoneSet with zones::BuildZoneSet(zone_files) and evaluates resource policy locally.
  std::string PolicyDocument() const;

 private:
  // The stored bundles of the foreign trust domains the zones of `entries` federate with.
  absl::StatusOr<std::vector<spinel::v1::Bundle>> FederatedBundlesFor(
      const zones::ZoneSet& zones, const std::vector<RegistrationEntry>& entries) const;

  Datastore& datastore_;
  const ZoneState& zones_;
  CaManager& cas_;
  const common::TrustDomain control_;
  const common::Clock& clock_;
  FederatedBundles federated_;
  const BundleMerger* merger_ = nullptr;
};

// Something that wants to hear "your view may have changed".
class SyncSubscriber {
 public:
  virtual ~SyncSubscriber() = default;
  // Called on the hub's dispatch thread; must not block for long.
  virtual void Refresh() = 0;
  // False when an entry change under only `parent_ids` cannot change what this subscriber
  // serves (NotifyEntriesChanged then skips it). The default is true: refresh on everything.
  virtual bool ConcernsParents(const std::set<std::string>& /*parent_ids*/) const { return true; }
};

class ChangeWakeup;

// Threads: one dispatch thread calls the subscribers' Refresh, one pass at a time. Subscribe,
// Unsubscribe, Stop and the wake-ups are thread-safe.
class SyncHub {
 public:
  SyncHub();
  ~SyncHub();  // Stop()s

  void Subscribe(SyncSubscriber* subscriber);
  // After Unsubscribe returns, Refresh is not running and will not be called on `subscriber`.
  void Unsubscribe(SyncSubscriber* subscriber);
  // Stops dispatching and joins the thread; wake-ups after it do nothing. Idempotent.
  void Stop();
  size_t subscriber_count() const;

 private:
  friend class ChangeWakeup;  // the one source of wake-ups

  // Schedules a refresh of every subscriber (coalesced: many notifications while a pass runs
  // cause one more pass).
  void NotifyChanged();
  // Schedules a refresh of the subscribers that ConcernsParents(`parent_ids`) (coalesced with
  // other notifications the same way; a pending NotifyChanged covers it).
  void NotifyEntriesChanged(const std::set<std::string>& parent_ids);
  void DispatchLoop();
  // Blocks until a wake-up is pending or the hub stops; false when it stops.
  bool WaitForWork() ABSL_LOCKS_EXCLUDED(mutex_);

  mutable common::Mutex mutex_;
  common::CondVar wake_;
  std::set<SyncSubscriber*> subscribers_ ABSL_GUARDED_BY(mutex_);
  bool pending_all_ ABSL_GUARDED_BY(mutex_) = false;
  std::set<std::string> pending_parents_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  // Held while subscribers are refreshed (taken before mutex_ when both are).
  common::Mutex dispatch_mutex_ ABSL_ACQUIRED_BEFORE(mutex_);
  std::thread thread_;
};

}  // namespace spinel::server
