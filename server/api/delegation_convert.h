// The delegation of an access request from the agent API (agent.proto AccessRequest.delegation)
// into the verified-delegation value the policy and approvals use
// (trust-zones/delegation_context.h). The agent sends only a delegation it verified from a
// delegation token; the server, which trusts the authenticated agent for it as it does for the
// request's subject, checks its shape here so a malformed one never reaches policy or storage.
// Pure functions; thread-safe.
#pragma once

#include <optional>

#include "absl/status/statusor.h"
#include "agent.pb.h"
#include "trust-zones/delegation_context.h"
#include "trust-zones/zone.h"

namespace spinel::server {

inline constexpr size_t kMaxUserClaims = 64;       // claim names per delegation
inline constexpr size_t kMaxUserClaimValues = 64;  // values per claim
inline constexpr size_t kMaxDelegationFieldBytes = 4096;

// nullopt when `request` has no delegation (on behalf of nobody). Otherwise the delegation,
// its actors named for `via` patterns with `zones`. InvalidArgument naming the field
// ("request.delegation.<field>: ...") when the user or issuer is empty or longer than 4096
// bytes, the chain is not 1..common::kMaxDelegationChain SPIFFE IDs, its first (current)
// actor is not the request's subject, or the claims exceed the limits above.
absl::StatusOr<std::optional<zones::DelegationContext>> DelegationFromProto(
    const spinel::v1::AccessRequest& request, const zones::ZoneSet& zones);

}  // namespace spinel::server
