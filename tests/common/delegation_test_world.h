// Shared fixture for the delegation tests (user tokens, delegation tokens, token exchange):
//  - an OIDC issuer https://idp.example.org with a P-256 key "idp-1" in its JWK Set, accepting
//    audience "spinel-agents" and carrying the claims email and groups;
//  - two zones' delegation keys: inference.example.org ("deleg-inf") and tools.example.org
//    ("deleg-tools"), in a DelegationAuthorityMap;
//  - workloads spiffe://inference.example.org/agent (WIT key agent_key) and
//    spiffe://tools.example.org/caller (WIT key caller_key); the final target
//    spiffe://tools.example.org/mcp;
//  - limits: max_chain 3, default 5m, max 15m; now = 1745509800.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/delegation_token.h"
#include "common/jwk.h"
#include "common/jwks.h"
#include "common/token_exchange.h"
#include "common/user_token.h"
#include "tests/common/wimse_test_world.h"

namespace spinel::testing::delegation {

using common::SpiffeId;
using nlohmann::json;

inline SpiffeId Id(std::string_view text) { return *SpiffeId::Parse(text); }

inline constexpr char kIdp[] = "https://idp.example.org";

struct DelegationWorld {
  common::TimePoint now = common::FromUnixSeconds(wimse::kNow);
  common::PrivateKey idp_key = std::move(*common::PrivateKey::Generate());
  common::PrivateKey inference_key = std::move(*common::PrivateKey::Generate());
  common::PrivateKey tools_key = std::move(*common::PrivateKey::Generate());
  common::PrivateKey agent_key = std::move(*common::PrivateKey::Generate());
  common::PrivateKey caller_key = std::move(*common::PrivateKey::Generate());
  common::TrustedIssuer issuer{kIdp, {"spinel-agents"}, {"email", "groups"}};
  std::shared_ptr<const common::JwkSet> jwks;
  common::DelegationAuthorityMap authorities;
  std::unique_ptr<common::DelegationTokenSigner> inference_signer;
  std::unique_ptr<common::DelegationTokenSigner> tools_signer;
  SpiffeId agent = Id("spiffe://inference.example.org/agent");
  SpiffeId caller = Id("spiffe://tools.example.org/caller");
  SpiffeId mcp = Id("spiffe://tools.example.org/mcp");
  common::DelegationLimits limits{3, std::chrono::minutes(5), std::chrono::minutes(15)};

  DelegationWorld() {
    json jwk = *common::PublicKeyToJwk(*idp_key.Public());
    jwk["kid"] = "idp-1";
    jwk["use"] = "sig";
    jwks = std::make_shared<const common::JwkSet>(*common::JwkSet::Parse(JwksJson({jwk})));
    REQUIRE(
        authorities.Add(Td("inference.example.org"), "deleg-inf", *inference_key.Public()).ok());
    REQUIRE(authorities.Add(Td("tools.example.org"), "deleg-tools", *tools_key.Public()).ok());
    inference_signer = std::move(*common::DelegationTokenSigner::Create(
        Td("inference.example.org"), inference_key, "deleg-inf"));
    tools_signer = std::move(
        *common::DelegationTokenSigner::Create(Td("tools.example.org"), tools_key, "deleg-tools"));
  }

  static std::string JwksJson(const std::vector<json>& keys) {
    return json{{"keys", json(keys)}}.dump();
  }

  common::ConfirmationKey AgentCnf() const {
    return {*agent_key.Public(), common::JwsAlgorithm::kEs256};
  }
  common::ConfirmationKey CallerCnf() const {
    return {*caller_key.Public(), common::JwsAlgorithm::kEs256};
  }

  json UserClaims() const {
    return {{"iss", kIdp},
            {"sub", "alice"},
            {"aud", "spinel-agents"},
            {"iat", common::ToUnixSeconds(now) - 10},
            {"exp", common::ToUnixSeconds(now) + 3600},
            {"email", "alice@example.org"},
            {"groups", json::array({"sre", "ml"})},
            {"name", "Alice"}};
  }
  json UserHeader() const { return {{"alg", "ES256"}, {"kid", "idp-1"}, {"typ", "JWT"}}; }
  std::string UserToken(const json& claims) const {
    return wimse::SignJwt(UserHeader(), claims, idp_key);
  }
  std::string UserToken() const { return UserToken(UserClaims()); }

  absl::StatusOr<common::UserToken> ValidateUser(std::string_view token) const {
    return common::ValidateUserToken(token, issuer, *jwks, now);
  }

  common::ExchangeRequest Request(const SpiffeId& workload, common::ConfirmationKey key,
                                  std::string audience) const {
    return common::ExchangeRequest{workload, std::move(key), std::move(audience), std::nullopt};
  }

  // Hop 1: alice's token exchanged by the agent for a token to the caller.
  common::DelegationClaims Hop1Claims() const {
    auto user = ValidateUser(UserToken());
    REQUIRE_MESSAGE(user.ok(), Message(user.status()));
    auto plan =
        common::PlanExchange(*user, Request(agent, AgentCnf(), caller.ToString()), limits, now);
    REQUIRE_MESSAGE(plan.ok(), Message(plan.status()));
    return *std::move(plan);
  }
  std::string Hop1Token() const {
    auto minted = inference_signer->Mint(Hop1Claims());
    REQUIRE_MESSAGE(minted.ok(), Message(minted.status()));
    return minted->token;
  }

  absl::StatusOr<common::DelegationToken> Validate(
      std::string_view token, std::string audience,
      std::optional<common::DelegationPresenter> presenter = std::nullopt) const {
    common::DelegationValidationOptions options;
    options.audience = std::move(audience);
    options.presenter = std::move(presenter);
    return common::ValidateDelegationToken(token, authorities, now, options);
  }

  // The claims and header of a minted token, for mutation and re-signing.
  static json Claims(std::string_view token) { return DecodeSegment(token, 1); }
  static json Header(std::string_view token) { return DecodeSegment(token, 0); }
  std::string SignInference(const json& header, const json& claims) const {
    return wimse::SignJwt(header, claims, inference_key);
  }
};

}  // namespace spinel::testing::delegation
