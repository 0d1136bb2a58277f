#include "common/user_token.h"

#include <doctest/doctest.h>

#include "tests/common/delegation_test_world.h"

namespace {

using spinel::common::JwsAlgorithm;
using spinel::testing::delegation::DelegationWorld;
using spinel::testing::delegation::kIdp;
using spinel::testing::wimse::CheckRefused;

}  // namespace

TEST_CASE("user token: a token of the trusted issuer gives the user and the selected claims") {
  DelegationWorld w;
  auto user = w.ValidateUser(w.UserToken());
  REQUIRE_MESSAGE(user.ok(), spinel::testing::Message(user.status()));
  CHECK(user->issuer == kIdp);
  CHECK(user->subject == "alice");
  CHECK(user->audience == "spinel-agents");
  CHECK(spinel::common::ToUnixSeconds(user->expires_at) ==
        spinel::common::ToUnixSeconds(w.now) + 3600);
  // Only the claims the zone selected; "name" is not one of them.
  CHECK(user->claims == json{{"email", "alice@example.org"}, {"groups", {"sre", "ml"}}});
  CHECK(spinel::common::ClaimStrings(user->claims["groups"]) ==
        std::vector<std::string>{"sre", "ml"});
  CHECK(spinel::common::ClaimStrings(user->claims["email"]) ==
        std::vector<std::string>{"alice@example.org"});
}

TEST_CASE("user token: accepted forms of typ and aud") {
  DelegationWorld w;
  json header = w.UserHeader();
  for (const char* typ : {"JWT", "at+jwt", "application/at+JWT"}) {
    header["typ"] = typ;
    CHECK(w.ValidateUser(spinel::testing::wimse::SignJwt(header, w.UserClaims(), w.idp_key)).ok());
  }
  header.erase("typ");
  CHECK(w.ValidateUser(spinel::testing::wimse::SignJwt(header, w.UserClaims(), w.idp_key)).ok());
  json claims = w.UserClaims();
  claims["aud"] = json::array({"other", "spinel-agents"});
  auto user = w.ValidateUser(w.UserToken(claims));
  REQUIRE(user.ok());
  CHECK(user->audience == "spinel-agents");
  // Selected claims that are absent are simply not carried.
  claims.erase("groups");
  user = w.ValidateUser(w.UserToken(claims));
  REQUIRE(user.ok());
  CHECK_FALSE(user->claims.contains("groups"));
}

TEST_CASE("user token: every refusal names its check") {
  DelegationWorld w;
  const int64_t now = spinel::common::ToUnixSeconds(w.now);
  auto with = [&](const char* name, json value) {
    json claims = w.UserClaims();
    if (value.is_null()) {
      claims.erase(name);
    } else {
      claims[name] = std::move(value);
    }
    return w.UserToken(claims);
  };
  CheckRefused(w.ValidateUser("a.b"), "token:");
  CheckRefused(w.ValidateUser(with("iss", "https://evil.example.org")), "iss:");
  CheckRefused(w.ValidateUser(with("iss", nullptr)), "iss:");
  CheckRefused(w.ValidateUser(with("aud", "someone-else")), "aud:");
  CheckRefused(w.ValidateUser(with("aud", nullptr)), "aud:");
  CheckRefused(w.ValidateUser(with("aud", 7)), "aud:");
  CheckRefused(w.ValidateUser(with("exp", now - 61)), "exp:");
  CheckRefused(w.ValidateUser(with("exp", nullptr)), "exp:");
  CheckRefused(w.ValidateUser(with("nbf", now + 120)), "nbf:");
  CheckRefused(w.ValidateUser(with("iat", now + 120)), "iat:");
  CheckRefused(w.ValidateUser(with("sub", "")), "sub:");
  CheckRefused(w.ValidateUser(with("sub", nullptr)), "sub:");
  CheckRefused(w.ValidateUser(with("groups", json{{"a", 1}})), "claims:");
  CheckRefused(w.ValidateUser(with("email", 5)), "claims:");
  CheckRefused(w.ValidateUser(with("cnf", json{{"jkt", "abc"}})), "cnf:");
  // Within the leeway it still passes.
  CHECK(w.ValidateUser(with("exp", now - 30)).ok());
}

TEST_CASE("user token: header refusals: typ, alg, crit, key, signature") {
  DelegationWorld w;
  using spinel::testing::wimse::SignJwt;
  for (const char* typ : {"wit+jwt", "wpt+jwt", "txntoken+jwt", "delegation+jwt", "JOSE+x"}) {
    json header = w.UserHeader();
    header["typ"] = typ;
    CheckRefused(w.ValidateUser(SignJwt(header, w.UserClaims(), w.idp_key)), "typ:");
  }
  json header = w.UserHeader();
  header["alg"] = "HS256";
  CheckRefused(w.ValidateUser(SignJwt(header, w.UserClaims(), w.idp_key)), "alg:");
  header = w.UserHeader();
  header["crit"] = json::array({"exp"});
  CheckRefused(w.ValidateUser(SignJwt(header, w.UserClaims(), w.idp_key)), "crit:");
  header = w.UserHeader();
  header["kid"] = "idp-2";
  CheckRefused(w.ValidateUser(SignJwt(header, w.UserClaims(), w.idp_key)), "key:");
  // Signed by another key under the right kid, and signed RS256 with an EC kid.
  auto other = std::move(*spinel::common::PrivateKey::Generate());
  CheckRefused(w.ValidateUser(SignJwt(w.UserHeader(), w.UserClaims(), other)), "signature:");
  header = w.UserHeader();
  header["alg"] = "RS256";
  CheckRefused(w.ValidateUser(SignJwt(header, w.UserClaims(), spinel::testing::wimse::RsaKey(),
                                      JwsAlgorithm::kRs256)),
               "key:");
  // A tampered payload.
  std::string token = w.UserToken();
  const size_t dot = token.find('.');
  token[dot + 5] = token[dot + 5] == 'A' ? 'B' : 'A';
  CHECK_FALSE(w.ValidateUser(token).ok());
}

TEST_CASE("user token: UnverifiedIssuer and UnverifiedTyp only read") {
  DelegationWorld w;
  CHECK(*spinel::common::UnverifiedIssuer(w.UserToken()) == kIdp);
  CHECK(*spinel::common::UnverifiedTyp(w.UserToken()) == "JWT");
  CHECK_FALSE(spinel::common::UnverifiedIssuer("x.y.z").ok());
}
