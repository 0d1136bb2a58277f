// JWT-SVID minting and the validation rules on claims (tests common/jwt_svid.cc).
#include "common/jwt_svid.h"

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/common/jwt_test_world.h"

TEST_CASE("a minted JWT-SVID validates and carries exactly the SPIFFE header and claims") {
  World w;
  std::string token = w.Mint();
  CHECK(DecodeSegment(token, 0) == json{{"alg", "ES256"}, {"kid", "k1"}, {"typ", "JWT"}});
  json claims = DecodeSegment(token, 1);
  CHECK(claims["sub"] == "spiffe://example.org/workload");
  CHECK(claims["aud"] == "spinel");  // a single audience is a string
  CHECK(claims["iat"] == ToUnixSeconds(w.clock.Now()));
  CHECK(claims["exp"] == ToUnixSeconds(w.clock.Now()) + 300);
  auto svid = w.Validate(token);
  REQUIRE(svid.ok());
  CHECK(svid->subject.ToString() == "spiffe://example.org/workload");
  CHECK(svid->audience == std::vector<std::string>{"spinel"});
  CHECK(svid->expires_at == FromUnixSeconds(ToUnixSeconds(w.clock.Now()) + 300));
  CHECK(svid->kid == "k1");
  CHECK(svid->algorithm == JwsAlgorithm::kEs256);
  CHECK(svid->claims == claims);
}

TEST_CASE("several audiences are an array and any expected one matches") {
  World w;
  std::string token = *w.signer->Mint(w.Claims({"a", "b"}));
  CHECK(DecodeSegment(token, 1)["aud"] == json::array({"a", "b"}));
  CHECK(w.Validate(token, {"b"}).ok());
  CHECK(w.Validate(token, {"x", "a"}).ok());
  CheckRejected(w.Validate(token, {"c"}), "none of the expected audiences");
}

TEST_CASE("P-384 and P-521 keys mint ES384 and ES512 tokens") {
  World w;
  for (auto [type, alg] : {std::pair{KeyType::kEcP384, "ES384"}, {KeyType::kEcP521, "ES512"}}) {
    auto key = PrivateKey::Generate(type);
    auto signer = JwtSvidSigner::Create(w.td, *key, "big");
    REQUIRE(signer.ok());
    w.AddJwtKey(w.td, "big", *key->Public());
    std::string token = *(*signer)->Mint(w.Claims());
    CHECK(DecodeSegment(token, 0)["alg"] == alg);
    CHECK(w.Validate(token).ok());
  }
}

TEST_CASE("extra claims are carried but cannot redefine the SPIFFE claims") {
  World w;
  JwtSvidClaims claims = w.Claims();
  claims.extra_claims = {{"iss", "spinel"}, {"zone", {{"name", "inference"}}}};
  auto svid = w.Validate(*w.signer->Mint(claims));
  REQUIRE(svid.ok());
  CHECK(svid->claims["zone"]["name"] == "inference");
  for (const char* name : {"sub", "aud", "exp", "iat"}) {
    claims.extra_claims = {{name, "x"}};
    CHECK_FALSE(w.signer->Mint(claims).ok());
  }
  claims.extra_claims = json::array();
  CHECK_FALSE(w.signer->Mint(claims).ok());
  claims.extra_claims = {{"bad", std::string("\xff\xfe")}};  // not UTF-8
  CHECK_FALSE(w.signer->Mint(claims).ok());
}

TEST_CASE("the signer only mints for its own trust domain and sane claims") {
  World w;
  JwtSvidClaims claims = w.Claims();
  claims.subject = *SpiffeId::Parse("spiffe://other.org/workload");
  CHECK(Message(w.signer->Mint(claims).status()).find("not in trust domain") != std::string::npos);
  claims = w.Claims({});
  CHECK_FALSE(w.signer->Mint(claims).ok());
  claims = w.Claims({"a", ""});
  CHECK_FALSE(w.signer->Mint(claims).ok());
  claims = w.Claims();
  claims.expires_at = claims.issued_at;
  CHECK_FALSE(w.signer->Mint(claims).ok());
  CHECK_FALSE(JwtSvidSigner::Create(w.td, w.key, "").ok());
  CHECK_FALSE(JwtSvidSigner::Create(TrustDomain(), w.key, "k").ok());
}

TEST_CASE("attack: expired tokens are rejected after the leeway") {
  World w;
  std::string token = w.Mint();
  w.clock.Advance(seconds(300 + 30));
  CHECK(w.Validate(token).ok());  // within the default 30 s leeway
  w.clock.Advance(seconds(1));
  CheckRejected(w.Validate(token), "expired at");
  JwtSvidValidationOptions lenient;
  lenient.leeway = seconds(120);
  CHECK(w.Validate(token, {"spinel"}, lenient).ok());
  World strict_world;
  JwtSvidValidationOptions strict;
  strict.leeway = seconds(0);
  std::string fresh = strict_world.Mint();
  strict_world.clock.Advance(seconds(300));
  CHECK(strict_world.Validate(fresh, {"spinel"}, strict).ok());
  strict_world.clock.Advance(seconds(1));
  CheckRejected(strict_world.Validate(fresh, {"spinel"}, strict), "expired");
}

TEST_CASE("attack: tokens not yet valid (nbf, iat in the future) are rejected") {
  World w;
  const int64_t now = ToUnixSeconds(w.clock.Now());
  json payload = w.Payload();
  payload["nbf"] = now + 60;
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "not valid before");
  payload["nbf"] = now + 20;  // within leeway
  CHECK(w.Validate(w.Forge(w.Header(), payload)).ok());
  payload = w.Payload();
  payload["iat"] = now + 60;
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "issued in the future");
  payload["iat"] = now - 3600;
  CHECK(w.Validate(w.Forge(w.Header(), payload)).ok());
}

TEST_CASE("attack: wrong audience, and no expected audience at all") {
  World w;
  std::string token = w.Mint();
  CheckRejected(w.Validate(token, {"someone-else"}), "none of the expected audiences");
  CheckRejected(w.Validate(token, {}), "no expected audience");
  CheckRejected(w.Validate(token, {""}), "expected audience is empty");
  CheckRejected(w.Validate(token, {"spinel", ""}), "expected audience is empty");
  json payload = w.Payload();
  payload.erase("aud");
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "missing \"aud\"");
  payload["aud"] = json::array();
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "\"aud\" is empty");
  payload["aud"] = json::array({"spinel", 5});
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "not a string");
  payload["aud"] = 5;
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "neither a string nor an array");
}

TEST_CASE("attack: missing or malformed exp") {
  World w;
  json payload = w.Payload();
  payload.erase("exp");
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "missing \"exp\"");
  payload["exp"] = std::to_string(ToUnixSeconds(w.clock.Now()) + 300);
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "\"exp\" is not a number");
  payload["exp"] = -1;
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "\"exp\" is out of range");
  payload["exp"] = 1e300;
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "\"exp\" is out of range");
  payload["exp"] = 18446744073709551615u;
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "\"exp\" is out of range");
  payload["exp"] = static_cast<double>(ToUnixSeconds(w.clock.Now())) + 300.5;  // NumericDate
  CHECK(w.Validate(w.Forge(w.Header(), payload)).ok());
}

TEST_CASE("attack: missing or malformed sub") {
  World w;
  json payload = w.Payload();
  payload.erase("sub");
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "missing \"sub\"");
  for (const char* bad : {"example.org/workload", "spiffe://Example.org/w",
                          "spiffe://example.org/a/", "spiffe://example.org/%41", ""}) {
    payload["sub"] = bad;
    CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "\"sub\" is not a SPIFFE ID");
  }
  payload["sub"] = json::array({"spiffe://example.org/workload"});
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "\"sub\" is not a string");
}

TEST_CASE("RS256 and PS256 tokens from an RSA-2048 key are accepted") {
  World w;
  SslPtr<EVP_PKEY> rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  REQUIRE(rsa);
  w.AddJwtKey(w.td, "rsa", *PublicKey::FromEvp(rsa.get()));
  auto token = [&](const std::string& alg, const EVP_MD* md, bool pss, int salt) {
    std::string input = Segment(w.Header(alg, "rsa")) + "." + Segment(w.Payload());
    return input + "." + Base64UrlEncode(EvpSign(rsa.get(), md, input, pss, salt));
  };
  CHECK(w.Validate(token("RS256", EVP_sha256(), false, 0)).ok());
  CHECK(w.Validate(token("RS512", EVP_sha512(), false, 0)).ok());
  CHECK(w.Validate(token("PS256", EVP_sha256(), true, RSA_PSS_SALTLEN_DIGEST)).ok());
  CHECK(w.Validate(token("PS384", EVP_sha384(), true, RSA_PSS_SALTLEN_DIGEST)).ok());
  // PSS salt length must equal the hash length.
  CheckRejected(w.Validate(token("PS256", EVP_sha256(), true, 0)), "signature does not verify");
  CheckRejected(w.Validate(token("PS256", EVP_sha256(), true, RSA_PSS_SALTLEN_MAX)),
                "signature does not verify");
  // A PKCS#1 signature presented as PSS, and the other way round.
  std::string rs = token("RS256", EVP_sha256(), false, 0);
  std::string input = Segment(w.Header("PS256", "rsa")) + "." + Segment(w.Payload());
  CheckRejected(w.Validate(input + rs.substr(rs.rfind('.'))), "signature does not verify");
  // An RSA key under an ES alg.
  CheckRejected(w.Validate(token("ES256", EVP_sha256(), false, 0)), "needs an EC P-256 key");
}

TEST_CASE("oversized tokens are rejected before decoding") {
  World w;
  JwtSvidClaims claims = w.Claims();
  claims.extra_claims = {{"pad", std::string(17 * 1024, 'a')}};
  std::string token = *w.signer->Mint(claims);
  CheckRejected(w.Validate(token), "exceeds the limit of 16384");
  JwtSvidValidationOptions roomy;
  roomy.max_token_bytes = 64 * 1024;
  CHECK(w.Validate(token, {"spinel"}, roomy).ok());
  // Deeply nested claims are refused too, however small.
  json payload = w.Payload();
  json deep = json::array();
  for (int i = 0; i < 100; ++i) deep = json::array({deep});
  payload["deep"] = deep;
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "nested deeper");
}

TEST_CASE("one signer mints from many threads at once") {
  World w;
  std::vector<std::string> tokens(4 * 25);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        auto token = w.signer->Mint(w.Claims());
        if (token.ok()) tokens[t * 25 + i] = *token;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& token : tokens) CHECK(w.Validate(token).ok());
}
