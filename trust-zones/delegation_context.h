// The verified delegation behind an access request: the user a chain of workloads acts for, the
// user claims the zone selected, and the chain itself (from a validated delegation token,
// common/delegation_token.h). Policy rules condition on it with `on_behalf_of`, `via` and
// `max_chain` (delegation_rule.h); approvals bind to it (approval.h); audit events record it.
//
// Actor names for `via` patterns: an actor whose trust domain is a zone of the set is named
// "<zone name><path>" (spiffe://inference.ai.example.org/model-server in zone "inference" is
// "inference/model-server"), so patterns read like "inference/*"; an actor in a trust domain
// that is no zone keeps its full SPIFFE ID ("spiffe://partner.example/agent"), which no zone
// name can collide with (zone names have no ':').
//
// A value; immutable once built and thread-safe to read.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/delegation_token.h"
#include "common/spiffe_id.h"
#include "trust-zones/zone.h"

namespace spinel::zones {

// User claim name -> values (a string claim has one value).
using UserClaims = std::map<std::string, std::vector<std::string>, std::less<>>;

struct DelegationActor {
  common::SpiffeId id;
  std::string name;  // the policy name matched by `via` patterns (see above)
};

struct DelegationContext {
  std::string user;         // the user's subject ("sub")
  std::string user_issuer;  // the issuer that authenticated the user
  UserClaims claims;
  std::vector<DelegationActor> actors;  // the current actor first, the earliest last

  // From the claims of a validated delegation token, naming actors with `zones`.
  static DelegationContext FromToken(const ZoneSet& zones, const common::DelegationClaims& token);
  // The actors' SPIFFE IDs, current first.
  std::vector<std::string> ActorIds() const;
};

// The policy name of `actor` (see above).
std::string ActorPolicyName(const ZoneSet& zones, const common::SpiffeId& actor);

}  // namespace spinel::zones
