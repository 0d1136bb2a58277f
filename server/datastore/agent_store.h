// AgentStore: attested agents and the join tokens that attest them (one part of the Datastore,
// datastore.h).
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

class AgentStore {
 public:
  virtual ~AgentStore() = default;

  // --- Join tokens -----------------------------------------------------------------------
  // Stores the SHA-256 of `token` (never the token) bound to `agent_id`. AlreadyExists if the
  // same token was stored before; InvalidArgument for an empty token or agent ID.
  virtual absl::StatusOr<JoinToken> CreateJoinToken(std::string_view token,
                                                    const common::SpiffeId& agent_id,
                                                    int64_t expires_at) = 0;
  // Atomically marks the token used (used_at = now) and returns it. Exactly one of any number
  // of concurrent calls with the same token succeeds. NotFound if unknown, FailedPrecondition
  // if already used or expired (expires_at <= now). Messages never contain the token.
  virtual absl::StatusOr<JoinToken> ConsumeJoinToken(std::string_view token) = 0;
  // Deletes tokens (used or not) with expires_at < `expired_before`; returns how many.
  virtual absl::StatusOr<int64_t> PruneJoinTokens(int64_t expired_before) = 0;

  // --- Attested agents -------------------------------------------------------------------
  // Stores a newly attested agent (banned = false). AlreadyExists if the ID is stored.
  virtual absl::StatusOr<AttestedAgent> CreateAttestedAgent(const AttestedAgent& agent) = 0;
  // Replaces attestation type, serial, SVID expiry and selectors (re-attestation, renewal);
  // keeps created_at and the banned flag. NotFound if the agent is not stored.
  virtual absl::StatusOr<AttestedAgent> UpdateAttestedAgent(const AttestedAgent& agent) = 0;
  virtual absl::StatusOr<AttestedAgent> GetAttestedAgent(const common::SpiffeId& id) = 0;
  // In SPIFFE ID order.
  virtual absl::StatusOr<std::vector<AttestedAgent>> ListAttestedAgents(
      const AgentFilter& filter) = 0;
  // Evicts the agent: the record is deleted and the agent must attest again.
  virtual absl::Status DeleteAttestedAgent(const common::SpiffeId& id) = 0;
  virtual absl::StatusOr<AttestedAgent> SetAgentBanned(const common::SpiffeId& id, bool banned) = 0;
};

}  // namespace spinel::server
