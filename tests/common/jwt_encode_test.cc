#include "common/jwt_encode.h"

#include <doctest/doctest.h>

#include <string>

#include "common/base64.h"
#include "common/jwt_decode.h"

using nlohmann::json;
using spinel::common::Base64UrlDecode;
using spinel::common::DecodeCompactJwt;
using spinel::common::EncodeJwtHeader;
using spinel::common::JwsAlgorithm;
using spinel::common::JwsSigner;
using spinel::common::PrivateKey;
using spinel::common::SignJwt;
using spinel::common::VerifyJwsSignature;

TEST_CASE("EncodeJwtHeader: alg, kid and typ as compact JSON, kid left out when empty") {
  absl::StatusOr<std::string> with_kid = EncodeJwtHeader(JwsAlgorithm::kEs256, "k1", "JWT");
  REQUIRE(with_kid.ok());
  REQUIRE(with_kid->back() == '.');
  CHECK(*Base64UrlDecode(with_kid->substr(0, with_kid->size() - 1)) ==
        R"({"alg":"ES256","kid":"k1","typ":"JWT"})");
  absl::StatusOr<std::string> without_kid = EncodeJwtHeader(JwsAlgorithm::kPs256, "", "wpt+jwt");
  REQUIRE(without_kid.ok());
  CHECK(*Base64UrlDecode(without_kid->substr(0, without_kid->size() - 1)) ==
        R"({"alg":"PS256","typ":"wpt+jwt"})");
}

TEST_CASE("SignJwt: a compact JWT whose signature verifies over header and claims") {
  absl::StatusOr<PrivateKey> key = PrivateKey::Generate();
  REQUIRE(key.ok());
  absl::StatusOr<JwsSigner> signer = JwsSigner::Create(*key, JwsAlgorithm::kEs256);
  REQUIRE(signer.ok());
  const std::string header = *EncodeJwtHeader(JwsAlgorithm::kEs256, "k1", "JWT");
  const json claims = {{"sub", "spiffe://example.org/a"}, {"exp", 1700000000}};
  absl::StatusOr<std::string> token = SignJwt(*signer, header, claims);
  REQUIRE(token.ok());
  CHECK(token->rfind(header, 0) == 0);
  auto jwt = DecodeCompactJwt(*token, 4096);
  REQUIRE(jwt.ok());
  CHECK(jwt->claims == claims);
  CHECK(jwt->header["kid"] == "k1");
  CHECK(VerifyJwsSignature(JwsAlgorithm::kEs256, *key->Public(), jwt->parts.signing_input,
                           jwt->signature)
            .ok());
  // Claims that cannot be serialized are an error, not a token.
  CHECK_FALSE(SignJwt(*signer, header, json{{"sub", "\xff"}}).ok());
}
