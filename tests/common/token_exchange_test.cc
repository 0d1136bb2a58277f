#include "common/token_exchange.h"

#include <doctest/doctest.h>

#include "tests/common/delegation_test_world.h"

namespace {

using spinel::common::DelegationClaims;
using spinel::common::ExchangeSubjectToken;
using spinel::common::PlanExchange;
using spinel::common::SpiffeId;
using spinel::common::SubjectTokenTrust;
using spinel::common::ToUnixSeconds;
using spinel::common::TrustedIssuerKeys;
using spinel::testing::Message;
using spinel::testing::delegation::DelegationWorld;
using spinel::testing::delegation::Id;
using spinel::testing::delegation::kIdp;
using spinel::testing::wimse::CheckRefused;

// The caller (tools zone) exchanges the hop-1 token it received for a token to the MCP server.
absl::StatusOr<DelegationClaims> Hop2(const DelegationWorld& w, const std::string& hop1) {
  auto subject = w.Validate(hop1, w.caller.ToString());
  if (!subject.ok()) return subject.status();
  return PlanExchange(*subject, w.Request(w.caller, w.CallerCnf(), w.mcp.ToString()), w.limits,
                      w.now);
}

}  // namespace

TEST_CASE("exchange: a user token becomes a delegation token for the workload") {
  DelegationWorld w;
  DelegationClaims plan = w.Hop1Claims();
  CHECK(plan.user.subject == "alice");
  CHECK(plan.user.issuer == kIdp);
  CHECK(plan.actors == std::vector<SpiffeId>{w.agent});
  CHECK(plan.audience == w.caller.ToString());
  CHECK(plan.expires_at - plan.issued_at == std::chrono::minutes(5));
  CHECK(spinel::common::SameConfirmationKey(plan.confirmation, w.AgentCnf()));
}

TEST_CASE("exchange: a received delegation token becomes a deeper chain; sub stays the user") {
  DelegationWorld w;
  auto plan = Hop2(w, w.Hop1Token());
  REQUIRE_MESSAGE(plan.ok(), Message(plan.status()));
  CHECK(plan->user.subject == "alice");
  CHECK(plan->user.claims["groups"] == json::array({"sre", "ml"}));
  CHECK(plan->actors == std::vector<SpiffeId>{w.caller, w.agent});
  auto minted = w.tools_signer->Mint(*plan);
  REQUIRE(minted.ok());
  const json claims = DelegationWorld::Claims(minted->token);
  CHECK(claims["sub"] == "alice");
  CHECK(claims["act"] == json{{"sub", "spiffe://tools.example.org/caller"},
                              {"act", {{"sub", "spiffe://inference.example.org/agent"}}}});
  // The MCP server validates it presented by the caller.
  auto at_mcp = w.Validate(minted->token, w.mcp.ToString(),
                           spinel::common::DelegationPresenter{w.caller, w.CallerCnf()});
  REQUIRE_MESSAGE(at_mcp.ok(), Message(at_mcp.status()));
  CHECK(at_mcp->claims.actors.size() == 2);
}

TEST_CASE("exchange: lifetimes are capped by the zone and by the subject token") {
  DelegationWorld w;
  auto user = w.ValidateUser(w.UserToken());
  REQUIRE(user.ok());
  auto request = w.Request(w.agent, w.AgentCnf(), w.caller.ToString());
  request.ttl = std::chrono::hours(2);
  auto plan = PlanExchange(*user, request, w.limits, w.now);
  REQUIRE(plan.ok());
  CHECK(plan->expires_at - plan->issued_at == std::chrono::minutes(15));
  // The subject token expires in 2 minutes: so does the new token, whatever was asked.
  json claims = w.UserClaims();
  claims["exp"] = ToUnixSeconds(w.now) + 120;
  user = w.ValidateUser(w.UserToken(claims));
  REQUIRE(user.ok());
  plan = PlanExchange(*user, request, w.limits, w.now);
  REQUIRE(plan.ok());
  CHECK(ToUnixSeconds(plan->expires_at) == ToUnixSeconds(w.now) + 120);
  // And a deeper token never outlives the token it was exchanged from.
  w.limits.default_ttl = std::chrono::minutes(10);
  auto hop1 = w.inference_signer->Mint(*plan);
  REQUIRE(hop1.ok());
  auto hop2 = Hop2(w, hop1->token);
  REQUIRE(hop2.ok());
  CHECK(hop2->expires_at == plan->expires_at);
}

TEST_CASE("exchange: refusals") {
  DelegationWorld w;
  const std::string hop1 = w.Hop1Token();
  SUBCASE("the chain would exceed the zone's max_chain") {
    w.limits.max_chain = 1;
    CheckRefused(Hop2(w, hop1), "at most 1", absl::StatusCode::kPermissionDenied);
  }
  SUBCASE("the delegation token's audience is not the exchanging workload") {
    auto subject = w.Validate(hop1, w.caller.ToString());
    REQUIRE(subject.ok());
    const SpiffeId other = Id("spiffe://tools.example.org/other");
    CheckRefused(
        PlanExchange(*subject, w.Request(other, w.CallerCnf(), w.mcp.ToString()), w.limits, w.now),
        "audience is not the exchanging workload", absl::StatusCode::kPermissionDenied);
  }
  SUBCASE("may_act names another workload") {
    auto subject = w.Validate(hop1, w.caller.ToString());
    REQUIRE(subject.ok());
    subject->may_act = Id("spiffe://tools.example.org/other");
    CheckRefused(PlanExchange(*subject, w.Request(w.caller, w.CallerCnf(), w.mcp.ToString()),
                              w.limits, w.now),
                 "may_act", absl::StatusCode::kPermissionDenied);
  }
  SUBCASE("the subject token has expired (even within the validators' leeway)") {
    json claims = w.UserClaims();
    claims["exp"] = ToUnixSeconds(w.now) - 10;
    auto user = w.ValidateUser(w.UserToken(claims));
    REQUIRE(user.ok());  // within the 60 s leeway
    CheckRefused(
        PlanExchange(*user, w.Request(w.agent, w.AgentCnf(), "https://x"), w.limits, w.now),
        "expired", absl::StatusCode::kPermissionDenied);
  }
  SUBCASE("bad requests") {
    auto user = w.ValidateUser(w.UserToken());
    REQUIRE(user.ok());
    CheckRefused(PlanExchange(*user, w.Request(w.agent, w.AgentCnf(), ""), w.limits, w.now),
                 "audience");
    auto request = w.Request(w.agent, w.AgentCnf(), "https://x");
    request.ttl = spinel::common::Duration::zero();
    CheckRefused(PlanExchange(*user, request, w.limits, w.now), "lifetime");
    w.limits.max_chain = 0;
    CheckRefused(
        PlanExchange(*user, w.Request(w.agent, w.AgentCnf(), "https://x"), w.limits, w.now),
        "limits");
  }
}

TEST_CASE("exchange: ExchangeSubjectToken tells user and delegation tokens apart") {
  DelegationWorld w;
  const TrustedIssuerKeys issuers[] = {{w.issuer, w.jwks}};
  SubjectTokenTrust trust{issuers, &w.authorities};
  auto from_user = ExchangeSubjectToken(
      w.UserToken(), trust, w.Request(w.agent, w.AgentCnf(), w.caller.ToString()), w.limits, w.now);
  REQUIRE_MESSAGE(from_user.ok(), Message(from_user.status()));
  auto hop1 = w.inference_signer->Mint(*from_user);
  REQUIRE(hop1.ok());
  auto from_delegation = ExchangeSubjectToken(
      hop1->token, trust, w.Request(w.caller, w.CallerCnf(), w.mcp.ToString()), w.limits, w.now);
  REQUIRE_MESSAGE(from_delegation.ok(), Message(from_delegation.status()));
  CHECK(from_delegation->actors == std::vector<SpiffeId>{w.caller, w.agent});

  // The hop-1 token exchanged by a workload that is not its audience: refused at validation.
  CheckRefused(ExchangeSubjectToken(hop1->token, trust,
                                    w.Request(Id("spiffe://tools.example.org/other"), w.CallerCnf(),
                                              w.mcp.ToString()),
                                    w.limits, w.now),
               "aud:");
  // A user token of an issuer the zone does not trust.
  json claims = w.UserClaims();
  claims["iss"] = "https://other-idp.example.org";
  CheckRefused(ExchangeSubjectToken(w.UserToken(claims), trust,
                                    w.Request(w.agent, w.AgentCnf(), "https://x"), w.limits, w.now),
               "not a trusted issuer");
  // A user token whose audience the zone does not accept.
  claims = w.UserClaims();
  claims["aud"] = "another-app";
  CheckRefused(ExchangeSubjectToken(w.UserToken(claims), trust,
                                    w.Request(w.agent, w.AgentCnf(), "https://x"), w.limits, w.now),
               "aud:");
  // A forged delegation token (signed by a key the zones do not have).
  json forged = DelegationWorld::Claims(hop1->token);
  const std::string forged_token =
      spinel::testing::wimse::SignJwt(DelegationWorld::Header(hop1->token), forged, w.agent_key);
  CheckRefused(
      ExchangeSubjectToken(forged_token, trust,
                           w.Request(w.caller, w.CallerCnf(), w.mcp.ToString()), w.limits, w.now),
      "signature:");
}
