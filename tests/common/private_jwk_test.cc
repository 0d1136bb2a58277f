#include "common/private_jwk.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/jwk.h"
#include "common/jws.h"

using spinel::common::JwsAlgorithm;
using spinel::common::KeyType;
using spinel::common::PrivateKey;

TEST_CASE("private JWK: round trip for every EC curve, with alg and the cnf public members") {
  const std::pair<KeyType, JwsAlgorithm> cases[] = {{KeyType::kEcP256, JwsAlgorithm::kEs256},
                                                    {KeyType::kEcP384, JwsAlgorithm::kEs384},
                                                    {KeyType::kEcP521, JwsAlgorithm::kEs512}};
  for (const auto& [type, alg] : cases) {
    auto key = *PrivateKey::Generate(type);
    auto text = spinel::common::PrivateKeyToJwk(key, alg);
    REQUIRE(text.ok());
    auto jwk = nlohmann::json::parse(text->view());
    CHECK(jwk["alg"] == std::string(spinel::common::JwsAlgorithmName(alg)));
    auto pub = *spinel::common::PublicKeyToJwk(*key.Public());
    for (const char* member : {"kty", "crv", "x", "y"}) CHECK(jwk[member] == pub[member]);
    auto back = spinel::common::PrivateKeyFromJwk(text->view());
    REQUIRE_MESSAGE(back.ok(), back.status().ToString());
    CHECK(back->Public()->Equals(*key.Public()));
    // The parsed key signs what the original key's public half verifies.
    auto signer = spinel::common::JwsSigner::Create(*back, alg);
    auto signature = signer->Sign("input");
    CHECK(spinel::common::VerifyJwsSignature(alg, *key.Public(), "input", *signature).ok());
  }
}

TEST_CASE("private JWK: refused when alg does not fit, members are wrong or not the key's") {
  auto key = *PrivateKey::Generate();
  CHECK(spinel::common::PrivateKeyToJwk(key, JwsAlgorithm::kEs384).status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto jwk =
      nlohmann::json::parse(spinel::common::PrivateKeyToJwk(key, JwsAlgorithm::kEs256)->view());
  auto other = nlohmann::json::parse(
      spinel::common::PrivateKeyToJwk(*PrivateKey::Generate(), JwsAlgorithm::kEs256)->view());
  nlohmann::json mixed = jwk;
  mixed["d"] = other["d"];  // another key's private scalar with this key's public point
  CHECK(spinel::common::PrivateKeyFromJwk(mixed.dump()).status().code() ==
        absl::StatusCode::kInvalidArgument);
  nlohmann::json no_d = jwk;
  no_d.erase("d");
  CHECK_FALSE(spinel::common::PrivateKeyFromJwk(no_d.dump()).ok());
  nlohmann::json short_x = jwk;
  short_x["x"] = "AAAA";
  CHECK_FALSE(spinel::common::PrivateKeyFromJwk(short_x.dump()).ok());
  nlohmann::json rsa = {{"kty", "RSA"}, {"n", "x"}, {"e", "AQAB"}, {"d", "x"}};
  CHECK(spinel::common::PrivateKeyFromJwk(rsa.dump()).status().code() ==
        absl::StatusCode::kUnimplemented);
  CHECK_FALSE(spinel::common::PrivateKeyFromJwk("not json").ok());
  // Messages never carry key material.
  auto status = spinel::common::PrivateKeyFromJwk(mixed.dump()).status();
  CHECK(std::string(status.message()).find(mixed["d"].get<std::string>()) == std::string::npos);
}

TEST_CASE("JWK thumbprint: RFC 7638 section 3.1 example") {
  // The RFC's example key is RSA; its thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
  nlohmann::json jwk = {{"kty", "RSA"},
                        {"e", "AQAB"},
                        {"n",
                         "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPF"
                         "FxuhDR1L6tSoc_BJECP"
                         "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_"
                         "RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY"
                         "368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-"
                         "bFTWhAI4vMQFh6WeZu0f"
                         "M4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}};
  auto key = spinel::common::PublicKeyFromJwk(jwk);
  REQUIRE(key.ok());
  CHECK(*spinel::common::JwkThumbprint(*key) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}
