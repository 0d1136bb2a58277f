// Key-possession proofs for own-key WIT-SVIDs (common/wit_key_proof.h): every check refuses.
#include "common/wit_key_proof.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/jws.h"
#include "common/private_jwk.h"
#include "common/strings.h"

using namespace std::chrono_literals;
using spinel::common::ConfirmationKey;
using spinel::common::JwsAlgorithm;
using spinel::common::PrivateKey;
using spinel::common::WptReplayCache;

namespace {

const auto kNow = spinel::common::FromUnixSeconds(1745509800);
constexpr char kId[] = "spiffe://example.org/w";

// A proof with `header` and `claims` as given, signed by `key` with ES256.
std::string Signed(const PrivateKey& key, const nlohmann::json& header,
                   const nlohmann::json& claims) {
  const std::string input =
      spinel::common::StrCat(spinel::common::Base64UrlEncode(header.dump()), ".",
                             spinel::common::Base64UrlEncode(claims.dump()));
  auto signer = spinel::common::JwsSigner::Create(key, JwsAlgorithm::kEs256);
  return input + "." + spinel::common::Base64UrlEncode(*signer->Sign(input));
}

nlohmann::json Claims(const PrivateKey& key) {
  return {{"aud", "spinel:wit-svid-for-key"},
          {"jkt", *spinel::common::JwkThumbprint(*key.Public())},
          {"sub", kId},
          {"iat", 1745509800},
          {"exp", 1745509830},
          {"jti", "0123456789abcdef0123"}};
}

const nlohmann::json kHeader = {{"alg", "ES256"}, {"typ", "wit-key-proof+jwt"}};

}  // namespace

TEST_CASE("key proof: a fresh proof passes once; each mutation is refused for its reason") {
  auto key = *PrivateKey::Generate();
  ConfirmationKey cnf{*key.Public(), JwsAlgorithm::kEs256};
  WptReplayCache replay;
  auto proof = spinel::common::CreateWitKeyProof(key, JwsAlgorithm::kEs256, kId, kNow);
  REQUIRE(proof.ok());
  CHECK(spinel::common::VerifyWitKeyProof(*proof, cnf, kId, kNow, replay).ok());
  auto again = spinel::common::VerifyWitKeyProof(*proof, cnf, kId, kNow, replay);
  CHECK(std::string(again.message()).find("replayed") != std::string::npos);
  CHECK(std::string(spinel::common::VerifyWitKeyProof(Signed(key, kHeader, Claims(key)), cnf, "",
                                                      kNow, replay)
                        .message())
            .find("\"sub\"") != std::string::npos);

  struct Case {
    const char* what;
    nlohmann::json header;
    nlohmann::json claims;
    const char* reason;
  };
  auto other = *PrivateKey::Generate();
  std::vector<Case> cases;
  auto claims = [&](const char* name, nlohmann::json value) {
    nlohmann::json c = Claims(key);
    if (value.is_null()) {
      c.erase(name);
    } else {
      c[name] = value;
    }
    return c;
  };
  nlohmann::json jwt_typ = kHeader;
  jwt_typ["typ"] = "JWT";
  nlohmann::json es384 = kHeader;
  es384["alg"] = "ES384";
  cases.push_back({"typ", jwt_typ, Claims(key), "typ"});
  cases.push_back({"alg", es384, Claims(key), "alg"});
  cases.push_back({"aud", kHeader, claims("aud", "other"), "aud"});
  cases.push_back(
      {"jkt", kHeader, claims("jkt", *spinel::common::JwkThumbprint(*other.Public())), "jkt"});
  cases.push_back({"no exp", kHeader, claims("exp", nullptr), "exp"});
  cases.push_back({"too long", kHeader, claims("exp", 1745509800 + 3600), "lifetime"});
  cases.push_back({"expired", kHeader, claims("exp", 1745509800 - 10), "lifetime"});
  cases.push_back({"future", kHeader, claims("iat", 1745509800 + 60), "lifetime"});
  cases.push_back({"short jti", kHeader, claims("jti", "x"), "jti"});
  for (const Case& c : cases) {
    CAPTURE(c.what);
    WptReplayCache fresh;
    absl::Status status =
        spinel::common::VerifyWitKeyProof(Signed(key, c.header, c.claims), cnf, kId, kNow, fresh);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(status.message()).find(c.reason) != std::string::npos);
  }
  // Signed by another key than the one to bind (with that key's thumbprint or not).
  WptReplayCache fresh;
  auto wrong =
      spinel::common::VerifyWitKeyProof(Signed(other, kHeader, Claims(key)), cnf, kId, kNow, fresh);
  CHECK(std::string(wrong.message()).find("signature") != std::string::npos);
  // Expired a while ago (beyond the 5 s leeway).
  auto late = spinel::common::VerifyWitKeyProof(*proof, cnf, kId, kNow + 40s, fresh);
  CHECK(std::string(late.message()).find("expired") != std::string::npos);
}
