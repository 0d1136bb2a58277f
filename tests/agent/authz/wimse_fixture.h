// WIMSE credentials for the agent's workload proof tests, minted at the AuthzWorld clock with
// the zones' real keys: a workload key pair, its WIT-SVID (signed by the zone's wit-svid key),
// WPTs (signed by any key) and delegation tokens (signed by the zone's jwt-svid key, as the
// server signs them). Failures abort the current doctest case (REQUIRE).
#pragma once

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include "authorization.pb.h"
#include "common/delegation_token.h"
#include "common/jws.h"
#include "common/jwt_encode.h"
#include "common/wit_svid.h"
#include "common/workload_proof_request.h"
#include "common/wpt.h"
#include "tests/agent/authz/authz_world.h"

namespace spinel::testing {

struct TestWorkload {
  common::SpiffeId id;
  common::PrivateKey key;
  common::ConfirmationKey confirmation;
  std::string wit;
};

// A workload of `td` with a fresh P-256 key and a WIT-SVID signed by `signer` (default: td's).
inline TestWorkload MakeWorkload(AuthzWorld& world, const std::string& td, const std::string& path,
                                 const common::WitSvidSigner* signer = nullptr) {
  auto id = common::SpiffeId::Parse("spiffe://" + td + path);
  REQUIRE(id.ok());
  auto key = common::PrivateKey::Generate();
  REQUIRE(key.ok());
  common::ConfirmationKey confirmation{*key->Public(), common::JwsAlgorithm::kEs256};
  common::WitSvidClaims claims;
  claims.subject = *id;
  claims.issued_at = std::chrono::time_point_cast<std::chrono::seconds>(world.clock.Now());
  claims.expires_at = claims.issued_at + std::chrono::hours(1);
  if (signer == nullptr) signer = world.zone(td).wit_signer.get();
  auto wit = signer->Mint(claims, confirmation);
  REQUIRE_MESSAGE(wit.ok(), wit.status().ToString());
  return TestWorkload{*id, std::move(*key), confirmation, *wit};
}

// A WPT for `target` binding `access_token`, signed with `key` (default: the workload's).
inline std::string MakeWpt(AuthzWorld& world, const TestWorkload& workload,
                           const std::string& target,
                           std::optional<std::string> access_token = std::nullopt,
                           const common::PrivateKey* key = nullptr) {
  common::WptParams params;
  params.audience = target;
  params.tokens.access_token = std::move(access_token);
  auto wpt = common::CreateWpt(workload.wit, key != nullptr ? *key : workload.key, params,
                               world.clock.Now());
  REQUIRE_MESSAGE(wpt.ok(), wpt.status().ToString());
  return *wpt;
}

// A WPT for `target` signed by `key`, which is NOT the WIT's cnf key (CreateWpt refuses to make
// one): what a thief holding a copied WIT-SVID without its key could send.
inline std::string ForgedWpt(AuthzWorld& world, const TestWorkload& workload,
                             const std::string& target, const common::PrivateKey& key) {
  auto signer = common::JwsSigner::Create(key, common::JwsAlgorithm::kEs256);
  REQUIRE(signer.ok());
  auto header = common::EncodeJwtHeader(common::JwsAlgorithm::kEs256, "", common::kWptTyp);
  REQUIRE(header.ok());
  auto wth = common::OtherTokenHash(workload.wit);  // b64u(SHA-256(WIT)): it has no spaces
  REQUIRE(wth.ok());
  const nlohmann::json claims = {{"aud", target},
                                 {"exp", common::ToUnixSeconds(world.clock.Now()) + 30},
                                 {"jti", "forged-1"},
                                 {"wth", *wth}};
  auto wpt = common::SignJwt(*signer, *header, claims);
  REQUIRE(wpt.ok());
  return *wpt;
}

// The WorkloadProof a receiver forwards: WIT, WPT and, when given, "Authorization: Bearer".
inline spinel::v1::WorkloadProof MakeProof(const std::string& target, const std::string& wit,
                                           const std::string& wpt, const std::string& bearer = "") {
  spinel::v1::WorkloadProof proof;
  proof.set_target_uri(target);
  auto add = [&](std::string_view name, const std::string& value) {
    spinel::v1::HttpHeader* header = proof.add_headers();
    header->set_name(std::string(name));
    header->set_value(value);
  };
  add(common::kWorkloadIdentityTokenHeader, wit);
  add(common::kWorkloadProofTokenHeader, wpt);
  if (!bearer.empty()) add(common::kAuthorizationHeader, "Bearer " + bearer);
  add("Content-Type", "application/json");  // ignored
  return proof;
}

// A delegation token of `td`'s zone (signed with its jwt-svid key) for `user`, naming `actors`
// (current first) and bound to `holder`'s key.
inline std::string MakeDelegationToken(AuthzWorld& world, const std::string& td,
                                       const TestWorkload& holder,
                                       const std::vector<std::string>& actors,
                                       const std::string& audience,
                                       nlohmann::json user_claims = nlohmann::json::object()) {
  AuthzZone& zone = world.zone(td);
  auto signer = common::DelegationTokenSigner::Create(zone.ca.td(), zone.jwt_key, zone.kid);
  REQUIRE(signer.ok());
  std::vector<common::SpiffeId> chain;
  for (const std::string& actor : actors) chain.push_back(*common::SpiffeId::Parse(actor));
  const common::TimePoint now =
      std::chrono::time_point_cast<std::chrono::seconds>(world.clock.Now());
  const common::DelegationClaims claims{
      {"https://idp.example.org", "alice", std::move(user_claims)},
      std::move(chain),
      audience,
      now,
      now + std::chrono::minutes(5),
      holder.confirmation};
  auto minted = (*signer)->Mint(claims);
  REQUIRE_MESSAGE(minted.ok(), minted.status().ToString());
  return minted->token;
}

}  // namespace spinel::testing
