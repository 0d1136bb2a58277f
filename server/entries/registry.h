// EntryRegistry: the server's rules for registration entries, on top of the datastore.
//
// An entry is accepted only when it follows the rules of every stored entry (required IDs and
// selectors, TTLs not negative, valid DNS names, the hint: NormalizeEntry in
// server/datastore/records.h, the one place they are checked) and the server's policy:
//   - its SPIFFE ID has a non-root path and belongs to a zone's trust domain (the entry's zone),
//     or is a node alias: an ID in the control trust domain whose parent is the server's own ID
//     (spiffe://<control-td>/spinel/server); node aliases group agents by node selectors;
//   - its parent is in the control trust domain: an agent ID, a node alias ID, or (for node
//     aliases) the server ID;
//   - its TTLs are not above the zone's caps (refused, not clamped: the operator asked for
//     something the zone forbids);
//   - when the parent is an attested agent, that agent's node may host the zone (zone `nodes`).
// The datastore fills in the zone (the SPIFFE ID's trust domain).
// Every refusal is InvalidArgument (or FailedPrecondition for placement) naming the problem;
// nothing is written. Datastore errors pass through.
//
// Thread-safe. Every successful write appends its change event in the datastore (with the
// entry's parents), which the change feed delivers to whatever reacts (server/sync/
// change_wakeup.h wakes the agents' streams); the registry tells nobody itself.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "server/datastore/datastore.h"
#include "server/zones/zone_state.h"

namespace spinel::server {

class EntryRegistry {
 public:
  EntryRegistry(Datastore& datastore, const ZoneState& zones, common::TrustDomain control)
      : datastore_(datastore), zones_(zones), control_(std::move(control)) {}

  absl::StatusOr<RegistrationEntry> Create(RegistrationEntry entry);
  // Replaces the entry `entry.id`; when entry.revision_number is 0 the stored revision is used
  // (last writer wins), otherwise it must match (Aborted if the entry changed meanwhile).
  absl::StatusOr<RegistrationEntry> Update(RegistrationEntry entry);
  absl::StatusOr<RegistrationEntry> Delete(std::string_view id);

  // Checks `entry` against every rule above without writing anything.
  absl::Status Validate(const RegistrationEntry& entry) const;
  bool IsNodeAlias(const RegistrationEntry& entry) const;

  Datastore& datastore() const { return datastore_; }

 private:
  absl::Status ValidateParent(const RegistrationEntry& entry) const;
  absl::Status ValidateZoneRules(const RegistrationEntry& entry) const;

  Datastore& datastore_;
  const ZoneState& zones_;
  const common::TrustDomain control_;
};

}  // namespace spinel::server
