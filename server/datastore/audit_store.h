// AuditStore: the hash-chained audit log (one part of the Datastore, datastore.h). The server
// writes it through AuditLog (server/audit/audit_log.h).
//
// Contract: that of every Datastore part (datastore.h): thread-safe, durable, each method one
// transaction, errors as values with the codes listed there, no default arguments.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/spiffe_id.h"
#include "server/datastore/types.h"

namespace spinel::server {

class AuditStore {
 public:
  virtual ~AuditStore() = default;

  // Events keep their delegation (user_issuer, user, actor_chain) byte for byte, as every
  // other hashed field, so a delegated event (canonical form v2) verifies like any other.
  //
  // Appends `event`: its sequence, prev_hash and hash are ignored and assigned (the next
  // sequence number, linked after the last event with zones::ChainAfter); its time is kept at
  // millisecond precision, and the epoch (TimePoint{}) becomes now. Returns the stored event.
  // Appends are serialized, so the chain never forks; zones::VerifyChain accepts a complete
  // unfiltered listing.
  virtual absl::StatusOr<AuditEvent> AppendAuditEvent(const AuditEvent& event) = 0;
  // Appends `events` in order, in one transaction (all or none), as AppendAuditEvent does
  // for each. Returns the stored events. An empty batch stores nothing.
  virtual absl::StatusOr<std::vector<AuditEvent>> AppendAuditEvents(
      const std::vector<AuditEvent>& events) = 0;
  // The events matching `filter` (types.h AuditFilter; `user` matches the user's subject).
  virtual absl::StatusOr<std::vector<AuditEvent>> ListAuditEvents(const AuditFilter& filter) = 0;
};

}  // namespace spinel::server
