#include "common/jwk.h"

#include <doctest/doctest.h>

#include "common/base64.h"
#include "common/keys.h"
#include "common/ssl_ptr.h"

using nlohmann::json;
using spinel::common::Base64UrlDecode;
using spinel::common::Base64UrlEncode;
using spinel::common::KeyType;
using spinel::common::PrivateKey;
using spinel::common::PublicKey;
using spinel::common::PublicKeyFromJwk;
using spinel::common::PublicKeyToJwk;
using spinel::common::SslPtr;

namespace {

PublicKey EcPublic(KeyType type) { return *PrivateKey::Generate(type)->Public(); }

PublicKey RsaPublic(int bits) {
  SslPtr<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits)));
  REQUIRE(pkey);
  return *PublicKey::FromEvp(pkey.get());
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// RFC 7517 Appendix A.1, the example public keys.
const json kRfcEcKey = {{"kty", "EC"},
                        {"crv", "P-256"},
                        {"x", "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4"},
                        {"y", "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"},
                        {"use", "enc"},
                        {"kid", "1"}};
const json kRfcRsaKey = {
    {"kty", "RSA"},
    {"n",
     "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJ"
     "ECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2"
     "QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh"
     "6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"},
    {"e", "AQAB"},
    {"alg", "RS256"},
    {"kid", "2011-04-29"}};

}  // namespace

TEST_CASE("EC keys round-trip through JWK with fixed-width coordinates") {
  const std::pair<KeyType, std::pair<const char*, size_t>> cases[] = {
      {KeyType::kEcP256, {"P-256", 32}},
      {KeyType::kEcP384, {"P-384", 48}},
      {KeyType::kEcP521, {"P-521", 66}},
  };
  for (const auto& [type, expect] : cases) {
    const char* curve = expect.first;  // CAPTURE's lambda cannot name a binding in clang 14
    CAPTURE(curve);
    // Several keys, so some have coordinates with leading zero bytes.
    for (int i = 0; i < 8; ++i) {
      PublicKey key = EcPublic(type);
      auto jwk = PublicKeyToJwk(key);
      REQUIRE(jwk.ok());
      CHECK((*jwk)["kty"] == "EC");
      CHECK((*jwk)["crv"] == expect.first);
      CHECK(Base64UrlDecode((*jwk)["x"].get<std::string>())->size() == expect.second);
      CHECK(Base64UrlDecode((*jwk)["y"].get<std::string>())->size() == expect.second);
      CHECK(jwk->size() == 4);
      auto back = PublicKeyFromJwk(*jwk);
      REQUIRE(back.ok());
      CHECK(back->type() == type);
      CHECK(back->Equals(key));
    }
  }
}

TEST_CASE("RSA keys round-trip through JWK") {
  PublicKey key = RsaPublic(2048);
  auto jwk = PublicKeyToJwk(key);
  REQUIRE(jwk.ok());
  CHECK((*jwk)["kty"] == "RSA");
  CHECK((*jwk)["e"] == "AQAB");
  CHECK(Base64UrlDecode((*jwk)["n"].get<std::string>())->size() == 256);
  auto back = PublicKeyFromJwk(*jwk);
  REQUIRE(back.ok());
  CHECK(back->type() == KeyType::kRsa);
  CHECK(back->Equals(key));
}

TEST_CASE("the RFC 7517 example keys parse and re-encode identically") {
  auto ec = PublicKeyFromJwk(kRfcEcKey);
  REQUIRE(ec.ok());
  CHECK(ec->type() == KeyType::kEcP256);
  auto ec_jwk = PublicKeyToJwk(*ec);
  CHECK((*ec_jwk)["x"] == kRfcEcKey["x"]);
  CHECK((*ec_jwk)["y"] == kRfcEcKey["y"]);
  auto rsa = PublicKeyFromJwk(kRfcRsaKey);
  REQUIRE(rsa.ok());
  CHECK(rsa->type() == KeyType::kRsa);
  auto rsa_jwk = PublicKeyToJwk(*rsa);
  CHECK((*rsa_jwk)["n"] == kRfcRsaKey["n"]);
  CHECK((*rsa_jwk)["e"] == "AQAB");
}

TEST_CASE("malformed EC JWKs are rejected naming the member") {
  auto expect_error = [](json jwk, const std::string& needle) {
    auto r = PublicKeyFromJwk(jwk);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_MESSAGE(Message(r.status()).find(needle) != std::string::npos, Message(r.status()));
  };
  json jwk = kRfcEcKey;
  SUBCASE("missing or mistyped members") {
    jwk.erase("x");
    expect_error(jwk, "\"x\"");
    jwk = kRfcEcKey;
    jwk["y"] = 5;
    expect_error(jwk, "\"y\" must be a string");
    jwk = kRfcEcKey;
    jwk.erase("crv");
    expect_error(jwk, "\"crv\"");
  }
  SUBCASE("unsupported curves") {
    jwk["crv"] = "P-192";
    expect_error(jwk, "unsupported EC curve");
    jwk["crv"] = "secp256k1";
    expect_error(jwk, "unsupported EC curve");
    jwk["crv"] = "p-256";
    expect_error(jwk, "unsupported EC curve");
  }
  SUBCASE("coordinates of the wrong width") {
    std::string x = *Base64UrlDecode(kRfcEcKey["x"].get<std::string>());
    jwk["x"] = Base64UrlEncode(x.substr(1));
    expect_error(jwk, "32 bytes");
    jwk["x"] = Base64UrlEncode(std::string(1, '\0') + x);
    expect_error(jwk, "32 bytes");
  }
  SUBCASE("a point that is not on the curve") {
    std::string y = *Base64UrlDecode(kRfcEcKey["y"].get<std::string>());
    y[31] ^= 1;
    jwk["y"] = Base64UrlEncode(y);
    CHECK_FALSE(PublicKeyFromJwk(jwk).ok());
  }
  SUBCASE("padded or standard-alphabet coordinates") {
    jwk["x"] = kRfcEcKey["x"].get<std::string>() + "=";
    expect_error(jwk, "base64url");
  }
  SUBCASE("private members") {
    jwk["d"] = "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE";
    expect_error(jwk, "private key member \"d\"");
  }
  SUBCASE("not an object") { expect_error(json::array(), "must be an object"); }
  SUBCASE("missing kty") {
    jwk.erase("kty");
    expect_error(jwk, "\"kty\"");
  }
}

TEST_CASE("unknown kty is Unimplemented so bundle parsing can skip it") {
  auto r = PublicKeyFromJwk(json{{"kty", "oct"}, {"k", "AAAA"}});
  CHECK(r.status().code() == absl::StatusCode::kUnimplemented);
  auto okp = PublicKeyFromJwk(json{{"kty", "OKP"}, {"crv", "Ed25519"}, {"x", "AAAA"}});
  CHECK(okp.status().code() == absl::StatusCode::kUnimplemented);
  CHECK(spinel::common::IsSupportedJwkKty("EC"));
  CHECK(spinel::common::IsSupportedJwkKty("RSA"));
  CHECK_FALSE(spinel::common::IsSupportedJwkKty("OKP"));
  CHECK_FALSE(spinel::common::IsSupportedJwkKty("ec"));
}

TEST_CASE("weak or malformed RSA JWKs are rejected") {
  json jwk = kRfcRsaKey;
  std::string short_n = Base64UrlDecode(kRfcRsaKey["n"].get<std::string>())->substr(0, 128);
  short_n.back() |= 1;
  jwk["n"] = Base64UrlEncode(short_n);
  CHECK(Message(PublicKeyFromJwk(jwk).status()).find("1024 bits") != std::string::npos);
  jwk = kRfcRsaKey;
  jwk["e"] = Base64UrlEncode(std::string("\x01\x00\x00", 3));  // even
  CHECK_FALSE(PublicKeyFromJwk(jwk).ok());
  jwk["e"] = "AQ";  // 1
  CHECK_FALSE(PublicKeyFromJwk(jwk).ok());
  jwk["e"] = Base64UrlEncode(std::string(9, '\x01'));  // more than 64 bits
  CHECK_FALSE(PublicKeyFromJwk(jwk).ok());
  jwk = kRfcRsaKey;
  std::string n = *Base64UrlDecode(kRfcRsaKey["n"].get<std::string>());
  n.back() &= '\xfe';  // even modulus
  jwk["n"] = Base64UrlEncode(n);
  CHECK_FALSE(PublicKeyFromJwk(jwk).ok());
  jwk["n"] = "";
  CHECK_FALSE(PublicKeyFromJwk(jwk).ok());
  jwk = kRfcRsaKey;
  jwk["p"] = "AQAB";
  CHECK_FALSE(PublicKeyFromJwk(jwk).ok());
}
