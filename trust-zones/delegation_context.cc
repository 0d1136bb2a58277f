#include "trust-zones/delegation_context.h"

#include "common/user_token.h"

namespace spinel::zones {

std::string ActorPolicyName(const ZoneSet& zones, const common::SpiffeId& actor) {
  const Zone* zone = zones.ZoneOf(actor);
  return zone == nullptr ? actor.ToString() : zone->name + actor.path();
}

DelegationContext DelegationContext::FromToken(const ZoneSet& zones,
                                               const common::DelegationClaims& token) {
  DelegationContext out;
  out.user = token.user.subject;
  out.user_issuer = token.user.issuer;
  if (token.user.claims.is_object()) {
    for (const auto& [name, value] : token.user.claims.items()) {
      out.claims.emplace(name, common::ClaimStrings(value));
    }
  }
  for (const common::SpiffeId& actor : token.actors) {
    out.actors.push_back({actor, ActorPolicyName(zones, actor)});
  }
  return out;
}

std::vector<std::string> DelegationContext::ActorIds() const {
  std::vector<std::string> out;
  out.reserve(actors.size());
  for (const DelegationActor& actor : actors) out.push_back(actor.id.ToString());
  return out;
}

}  // namespace spinel::zones
