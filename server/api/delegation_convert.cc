#include "server/api/delegation_convert.h"

#include "common/delegation_token.h"
#include "common/spiffe_id.h"
#include "common/strings.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat("request.delegation.", field, ": ", problem));
}

absl::Status CheckText(std::string_view field, const std::string& value) {
  if (value.empty()) return Invalid(field, "required");
  if (value.size() > kMaxDelegationFieldBytes) {
    return Invalid(field, StrCat("longer than ", kMaxDelegationFieldBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status CheckClaims(const spinel::v1::Delegation& delegation) {
  if (static_cast<size_t>(delegation.user_claims_size()) > kMaxUserClaims) {
    return Invalid("user_claims", StrCat("more than ", kMaxUserClaims, " claims"));
  }
  for (const auto& [name, values] : delegation.user_claims()) {
    if (name.empty() || name.size() > kMaxDelegationFieldBytes ||
        static_cast<size_t>(values.values_size()) > kMaxUserClaimValues) {
      return Invalid("user_claims", StrCat("claim ", Quote(name.substr(0, 64)), ": a name of 1 to ",
                                           kMaxDelegationFieldBytes, " bytes with at most ",
                                           kMaxUserClaimValues, " values is required"));
    }
    for (const std::string& value : values.values()) {
      if (value.size() > kMaxDelegationFieldBytes) {
        return Invalid("user_claims", StrCat("claim ", Quote(name), ": a value is longer than ",
                                             kMaxDelegationFieldBytes, " bytes"));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<zones::DelegationActor>> Actors(const spinel::v1::AccessRequest& request,
                                                           const zones::ZoneSet& zones) {
  const auto& chain = request.delegation().actor_chain();
  if (chain.empty() || static_cast<size_t>(chain.size()) > common::kMaxDelegationChain) {
    return Invalid("actor_chain", StrCat("must have 1 to ", common::kMaxDelegationChain,
                                         " SPIFFE IDs, the current actor first"));
  }
  std::vector<zones::DelegationActor> actors;
  for (int i = 0; i < chain.size(); ++i) {
    absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(chain[i]);
    if (!id.ok()) {
      return Invalid(StrCat("actor_chain[", i, "]"),
                     StrCat(Quote(chain[i]), ": ", id.status().message()));
    }
    actors.push_back({*id, zones::ActorPolicyName(zones, *id)});
  }
  if (chain[0] != request.subject()) {
    return Invalid("actor_chain", StrCat("the current actor (first) ", Quote(chain[0]),
                                         " is not the subject ", Quote(request.subject())));
  }
  return actors;
}

}  // namespace

absl::StatusOr<std::optional<zones::DelegationContext>> DelegationFromProto(
    const spinel::v1::AccessRequest& request, const zones::ZoneSet& zones) {
  if (!request.has_delegation()) return std::optional<zones::DelegationContext>();
  const spinel::v1::Delegation& delegation = request.delegation();
  if (absl::Status ok = CheckText("user", delegation.user()); !ok.ok()) return ok;
  if (absl::Status ok = CheckText("user_issuer", delegation.user_issuer()); !ok.ok()) return ok;
  if (absl::Status ok = CheckClaims(delegation); !ok.ok()) return ok;
  absl::StatusOr<std::vector<zones::DelegationActor>> actors = Actors(request, zones);
  if (!actors.ok()) return actors.status();
  zones::DelegationContext out;
  out.user = delegation.user();
  out.user_issuer = delegation.user_issuer();
  for (const auto& [name, values] : delegation.user_claims()) {
    out.claims.emplace(name,
                       std::vector<std::string>(values.values().begin(), values.values().end()));
  }
  out.actors = *std::move(actors);
  return std::optional<zones::DelegationContext>(std::move(out));
}

}  // namespace spinel::server
