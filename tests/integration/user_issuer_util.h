// A test user identity issuer for the delegation integration tests: the shipped zones trust
// kUserIssuer in the inference zone (audience spinel-inference) with the placeholder JWK Set
// demo-users.jwks.json; TestUserIssuer replaces it with a key of its own and signs users'
// tokens as an OpenID Connect provider would.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "common/jwk.h"
#include "common/jws.h"
#include "common/jwt_encode.h"
#include "common/keys.h"
#include "tests/integration/process_util.h"

namespace spinel::testing {

inline constexpr char kUserIssuer[] = "https://users.demo.spinel.example";

struct TestUserIssuer {
  common::PrivateKey key = std::move(*common::PrivateKey::Generate());

  // A copy of the shipped zones in `dir`/zones whose inference zone trusts this issuer.
  std::string Zones(const TempDir& dir) const {
    const std::string zones = dir.File("zones");
    std::filesystem::copy(SourceDir() + "/trust-zones/zones", zones);
    nlohmann::json jwk = *common::PublicKeyToJwk(*key.Public());
    jwk["kid"] = "idp-1";
    jwk["use"] = "sig";
    std::filesystem::remove(zones + "/demo-users.jwks.json");
    std::ofstream(zones + "/demo-users.jwks.json") << nlohmann::json{{"keys", {jwk}}}.dump();
    return zones;
  }

  // `user`'s token (groups [sre]) for the agents of the inference zone, valid for an hour.
  std::string Token(const std::string& user) const {
    const int64_t now = common::ToUnixSeconds(std::chrono::system_clock::now());
    const nlohmann::json claims = {{"iss", kUserIssuer},        {"sub", user},
                                   {"aud", "spinel-inference"}, {"iat", now - 10},
                                   {"exp", now + 3600},         {"email", user + "@example.org"},
                                   {"groups", {"sre"}}};
    auto signer = common::JwsSigner::Create(key, common::JwsAlgorithm::kEs256);
    REQUIRE(signer.ok());
    auto header = common::EncodeJwtHeader(common::JwsAlgorithm::kEs256, "idp-1", "JWT");
    REQUIRE(header.ok());
    auto token = common::SignJwt(*signer, *header, claims);
    REQUIRE(token.ok());
    return *token;
  }
};

}  // namespace spinel::testing
