#include "common/delegation_token.h"

#include <doctest/doctest.h>

#include "tests/common/delegation_test_world.h"

namespace {

using spinel::common::DelegationPresenter;
using spinel::common::SpiffeId;
using spinel::testing::Message;
using spinel::testing::delegation::DelegationWorld;
using spinel::testing::delegation::Id;
using spinel::testing::delegation::kIdp;
using spinel::testing::wimse::CheckRefused;

}  // namespace

TEST_CASE("delegation token: minted format (header, sub, user, nested act, cnf, may_act)") {
  DelegationWorld w;
  const std::string token = w.Hop1Token();
  const json header = DelegationWorld::Header(token);
  CHECK(header == json{{"alg", "ES256"}, {"kid", "deleg-inf"}, {"typ", "delegation+jwt"}});
  const json claims = DelegationWorld::Claims(token);
  CHECK(claims["iss"] == "spiffe://inference.example.org");
  CHECK(claims["sub"] == "alice");
  CHECK(
      claims["user"] ==
      json{{"iss", kIdp}, {"claims", {{"email", "alice@example.org"}, {"groups", {"sre", "ml"}}}}});
  CHECK(claims["act"] == json{{"sub", "spiffe://inference.example.org/agent"}});
  CHECK(claims["aud"] == "spiffe://tools.example.org/caller");
  CHECK(claims["may_act"] == json{{"sub", "spiffe://tools.example.org/caller"}});
  CHECK(claims["cnf"]["jwk"] == *spinel::common::ConfirmationJwk(w.AgentCnf()));
  CHECK(claims["jti"].get<std::string>().size() == 22);
  CHECK(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>() == 300);
}

TEST_CASE("delegation token: NestedAct and ParseNestedAct follow RFC 8693 §4.1") {
  const std::vector<SpiffeId> chain = {Id("spiffe://a.org/current"), Id("spiffe://b.org/mid"),
                                       Id("spiffe://c.org/first")};
  const json act = spinel::common::NestedAct(chain);
  CHECK(act ==
        json{{"sub", "spiffe://a.org/current"},
             {"act", {{"sub", "spiffe://b.org/mid"}, {"act", {{"sub", "spiffe://c.org/first"}}}}}});
  auto parsed = spinel::common::ParseNestedAct(act, 3);
  REQUIRE(parsed.ok());
  CHECK(*parsed == chain);
  CHECK_FALSE(spinel::common::ParseNestedAct(act, 2).ok());
}

TEST_CASE("delegation token: the receiver validates it with the presenter's WIT key") {
  DelegationWorld w;
  const std::string token = w.Hop1Token();
  auto validated =
      w.Validate(token, w.caller.ToString(), DelegationPresenter{w.agent, w.AgentCnf()});
  REQUIRE_MESSAGE(validated.ok(), Message(validated.status()));
  CHECK(validated->claims.user.subject == "alice");
  CHECK(validated->claims.user.issuer == kIdp);
  CHECK(validated->claims.actors == std::vector<SpiffeId>{w.agent});
  CHECK(validated->issuer.name() == "inference.example.org");
  CHECK(validated->kid == "deleg-inf");
  CHECK(validated->may_act == w.caller);
  // cnf mismatch: the token copied by another workload, or presented with another key.
  CheckRefused(w.Validate(token, w.caller.ToString(), DelegationPresenter{w.agent, w.CallerCnf()}),
               "presenter:");
  CheckRefused(w.Validate(token, w.caller.ToString(), DelegationPresenter{w.caller, w.AgentCnf()}),
               "presenter:");
}

TEST_CASE("delegation token: every refusal names its check") {
  DelegationWorld w;
  const std::string token = w.Hop1Token();
  const json header = DelegationWorld::Header(token);
  const json claims = DelegationWorld::Claims(token);
  const std::string aud = w.caller.ToString();
  auto resigned = [&](const json& h, const json& c) { return w.SignInference(h, c); };
  auto with = [&](const char* name, json value) {
    json c = claims;
    if (value.is_null()) {
      c.erase(name);
    } else {
      c[name] = std::move(value);
    }
    return resigned(header, c);
  };
  const int64_t now = spinel::common::ToUnixSeconds(w.now);

  // Sanity: re-signing the unchanged claims passes.
  CHECK(w.Validate(resigned(header, claims), aud).ok());
  CheckRefused(w.Validate("x.y", aud), "token:");
  json h = header;
  h["typ"] = "JWT";
  CheckRefused(w.Validate(resigned(h, claims), aud), "typ:");
  h = header;
  h["alg"] = "none";
  CheckRefused(w.Validate(resigned(h, claims), aud), "alg:");
  h = header;
  h.erase("kid");
  CheckRefused(w.Validate(resigned(h, claims), aud), "kid:");
  h = header;
  h["kid"] = "deleg-tools";  // the other zone's kid, for this zone's trust domain
  CheckRefused(w.Validate(resigned(h, claims), aud), "key:");
  CheckRefused(w.Validate(with("iss", "spiffe://evil.example.org"), aud), "key:");
  CheckRefused(w.Validate(with("iss", "https://inference.example.org"), aud), "iss:");
  CheckRefused(w.Validate(with("iss", "spiffe://inference.example.org/x"), aud), "iss:");
  // Bad signature: signed by the tools zone's key under the inference kid.
  CheckRefused(w.Validate(spinel::testing::wimse::SignJwt(header, claims, w.tools_key), aud),
               "signature:");
  CheckRefused(w.Validate(with("exp", now - 61), aud), "exp:");
  CheckRefused(w.Validate(with("exp", nullptr), aud), "exp:");
  CheckRefused(w.Validate(with("iat", now + 120), aud), "iat:");
  CheckRefused(w.Validate(token, "spiffe://tools.example.org/other"), "aud:");
  CheckRefused(w.Validate(with("aud", json::array({aud})), aud), "aud:");
  CheckRefused(w.Validate(with("sub", ""), aud), "sub:");
  CheckRefused(w.Validate(with("user", nullptr), aud), "user:");
  CheckRefused(w.Validate(with("user", json{{"iss", kIdp}, {"claims", {{"groups", {1}}}}}), aud),
               "user:");
  CheckRefused(w.Validate(with("act", nullptr), aud), "act:");
  CheckRefused(w.Validate(with("act", json{{"sub", "user:alice"}}), aud), "act:");
  CheckRefused(w.Validate(with("act", json{{"sub", "spiffe://inference.example.org/agent"},
                                           {"act", {{"sub", "wimse://example.com/x"}}}}),
                          aud),
               "act:");
  CheckRefused(
      w.Validate(with("act", json{{"sub", "spiffe://inference.example.org/agent"}, {"iss", "x"}}),
                 aud),
      "act:");
  // The current actor must belong to the signing zone.
  CheckRefused(w.Validate(with("act", json{{"sub", "spiffe://tools.example.org/x"}}), aud), "act:");
  CheckRefused(w.Validate(with("may_act", json{{"sub", "alice"}}), aud), "may_act:");
  CheckRefused(w.Validate(with("cnf", nullptr), aud), "cnf:");
  CheckRefused(w.Validate(with("cnf", json{{"jwk", {{"kty", "EC"}}}}), aud), "cnf:");
  CheckRefused(w.Validate(with("jti", ""), aud), "jti:");
}

TEST_CASE("delegation token: chain depth above the validator's maximum is refused") {
  DelegationWorld w;
  json claims = DelegationWorld::Claims(w.Hop1Token());
  std::vector<SpiffeId> chain = {w.agent};
  for (int i = 0; i < 4; ++i) chain.push_back(Id("spiffe://x.org/w" + std::to_string(i)));
  claims["act"] = spinel::common::NestedAct(chain);
  const std::string token = w.SignInference(DelegationWorld::Header(w.Hop1Token()), claims);
  spinel::common::DelegationValidationOptions options;
  options.audience = w.caller.ToString();
  options.max_chain = 4;
  CheckRefused(spinel::common::ValidateDelegationToken(token, w.authorities, w.now, options),
               "act:");
  options.max_chain = 5;
  CHECK(spinel::common::ValidateDelegationToken(token, w.authorities, w.now, options).ok());
}

TEST_CASE("delegation token: the signer refuses what it must not sign") {
  DelegationWorld w;
  spinel::common::DelegationClaims claims = w.Hop1Claims();
  auto refused = [&](spinel::common::DelegationClaims c) {
    CHECK(w.inference_signer->Mint(c).status().code() == absl::StatusCode::kInvalidArgument);
  };
  auto c = claims;
  c.actors = {w.caller};  // not in the inference zone
  refused(c);
  c = claims;
  c.actors.clear();
  refused(c);
  c = claims;
  c.expires_at = c.issued_at;
  refused(c);
  c = claims;
  c.audience.clear();
  refused(c);
  c = claims;
  c.user.claims["groups"] = json::array({1});
  refused(c);
  CHECK_FALSE(spinel::common::DelegationTokenSigner::Create(spinel::testing::Td("a.org"),
                                                            w.inference_key, "")
                  .ok());
}

TEST_CASE("DelegationAuthorityMap: keys by trust domain and kid") {
  DelegationWorld w;
  CHECK(w.authorities
            .Add(spinel::testing::Td("inference.example.org"), "deleg-inf", *w.tools_key.Public())
            .code() == absl::StatusCode::kAlreadyExists);
  CHECK(w.authorities.FindDelegationAuthority(spinel::testing::Td("tools.example.org"), "deleg-inf")
            .status()
            .code() == absl::StatusCode::kNotFound);
  CHECK(w.authorities
            .FindDelegationAuthority(spinel::testing::Td("tools.example.org"), "deleg-tools")
            ->Equals(*w.tools_key.Public()));
}
