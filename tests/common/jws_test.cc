#include "common/jws.h"

#include <doctest/doctest.h>

#include <string>

#include "common/ssl_ptr.h"

using spinel::common::CheckJwsKeyType;
using spinel::common::DefaultJwsAlgorithm;
using spinel::common::EcdsaDerToRaw;
using spinel::common::EcdsaRawToDer;
using spinel::common::JwsAlgorithm;
using spinel::common::JwsAlgorithmFromName;
using spinel::common::JwsAlgorithmName;
using spinel::common::JwsSigner;
using spinel::common::KeyType;
using spinel::common::PrivateKey;
using spinel::common::SplitCompactJws;
using spinel::common::SslPtr;
using spinel::common::VerifyJwsSignature;

namespace {

// An RSA PrivateKey (Spinel only generates EC keys) by way of PKCS#8.
PrivateKey RsaPrivate() {
  SslPtr<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  REQUIRE(pkey);
  unsigned char* der = nullptr;
  int len = i2d_PrivateKey(pkey.get(), &der);
  REQUIRE(len > 0);
  spinel::common::OpensslBuffer<unsigned char> owned(der);
  auto key = PrivateKey::FromPkcs8Der(std::string_view(reinterpret_cast<char*>(der), len));
  REQUIRE(key.ok());
  return std::move(*key);
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

}  // namespace

TEST_CASE("only the nine JWT-SVID algorithms can be named") {
  for (const char* name :
       {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"}) {
    auto alg = JwsAlgorithmFromName(name);
    REQUIRE(alg.has_value());
    CHECK(JwsAlgorithmName(*alg) == name);
  }
  for (const char* name : {"none", "None", "", "HS256", "HS384", "HS512", "EdDSA", "ES256K",
                           "es256", "ES256 ", "RSA-OAEP"}) {
    CHECK_FALSE(JwsAlgorithmFromName(name).has_value());
  }
}

TEST_CASE("key types pick and constrain the algorithm") {
  CHECK(DefaultJwsAlgorithm(KeyType::kEcP256) == JwsAlgorithm::kEs256);
  CHECK(DefaultJwsAlgorithm(KeyType::kEcP384) == JwsAlgorithm::kEs384);
  CHECK(DefaultJwsAlgorithm(KeyType::kEcP521) == JwsAlgorithm::kEs512);
  CHECK(DefaultJwsAlgorithm(KeyType::kRsa) == JwsAlgorithm::kRs256);
  CHECK(CheckJwsKeyType(JwsAlgorithm::kEs256, KeyType::kEcP256).ok());
  CHECK_FALSE(CheckJwsKeyType(JwsAlgorithm::kEs256, KeyType::kEcP384).ok());
  CHECK_FALSE(CheckJwsKeyType(JwsAlgorithm::kEs384, KeyType::kEcP256).ok());
  CHECK_FALSE(CheckJwsKeyType(JwsAlgorithm::kEs512, KeyType::kRsa).ok());
  CHECK_FALSE(CheckJwsKeyType(JwsAlgorithm::kRs256, KeyType::kEcP256).ok());
  CHECK_FALSE(CheckJwsKeyType(JwsAlgorithm::kPs256, KeyType::kEcP256).ok());
  CHECK(CheckJwsKeyType(JwsAlgorithm::kPs512, KeyType::kRsa).ok());
}

TEST_CASE("compact serialization is split into exactly three segments") {
  auto jws = SplitCompactJws("aGVhZA.cGF5.c2ln");
  REQUIRE(jws.ok());
  CHECK(jws->header == "aGVhZA");
  CHECK(jws->payload == "cGF5");
  CHECK(jws->signature == "c2ln");
  CHECK(jws->signing_input == "aGVhZA.cGF5");
  CHECK(SplitCompactJws("a..").ok());
  CHECK_FALSE(SplitCompactJws("").ok());
  CHECK_FALSE(SplitCompactJws("a.b").ok());
  CHECK_FALSE(SplitCompactJws("a.b.c.d").ok());
  auto jwe = SplitCompactJws("a.b.c.d.e");
  CHECK(Message(jwe.status()).find("JWE") != std::string::npos);
}

TEST_CASE("ECDSA signatures are raw R||S of the curve's width and verify") {
  const std::pair<KeyType, size_t> cases[] = {
      {KeyType::kEcP256, 64}, {KeyType::kEcP384, 96}, {KeyType::kEcP521, 132}};
  for (const auto& [type, size] : cases) {
    auto key = PrivateKey::Generate(type);
    auto signer = JwsSigner::Create(*key, DefaultJwsAlgorithm(type));
    REQUIRE(signer.ok());
    auto pub = key->Public();
    for (int i = 0; i < 10; ++i) {  // some signatures have short R or S
      auto sig = signer->Sign("header.payload");
      REQUIRE(sig.ok());
      CHECK(sig->size() == size);
      CHECK(VerifyJwsSignature(signer->algorithm(), *pub, "header.payload", *sig).ok());
      CHECK_FALSE(VerifyJwsSignature(signer->algorithm(), *pub, "header.payloaD", *sig).ok());
      auto der = EcdsaRawToDer(*sig);
      REQUIRE(der.ok());
      CHECK(*EcdsaDerToRaw(*der, size / 2) == *sig);
      // The DER form is not a valid JWS signature.
      CHECK_FALSE(VerifyJwsSignature(signer->algorithm(), *pub, "header.payload", *der).ok());
    }
  }
}

TEST_CASE("signers refuse a key that does not fit the algorithm") {
  auto p256 = PrivateKey::Generate();
  CHECK_FALSE(JwsSigner::Create(*p256, JwsAlgorithm::kEs384).ok());
  CHECK_FALSE(JwsSigner::Create(*p256, JwsAlgorithm::kRs256).ok());
  auto sig = JwsSigner::Create(*p256, JwsAlgorithm::kEs256)->Sign("x.y");
  auto p384 = PrivateKey::Generate(KeyType::kEcP384);
  auto r = VerifyJwsSignature(JwsAlgorithm::kEs256, *p384->Public(), "x.y", *sig);
  CHECK(Message(r).find("needs an EC P-256 key") != std::string::npos);
}

TEST_CASE("RSA PKCS#1 v1.5 and PSS signatures verify only under their own algorithm") {
  PrivateKey key = RsaPrivate();
  auto pub = key.Public();
  for (JwsAlgorithm alg : {JwsAlgorithm::kRs256, JwsAlgorithm::kRs384, JwsAlgorithm::kRs512,
                           JwsAlgorithm::kPs256, JwsAlgorithm::kPs384, JwsAlgorithm::kPs512}) {
    CAPTURE(JwsAlgorithmName(alg));
    auto sig = JwsSigner::Create(key, alg)->Sign("a.b");
    REQUIRE(sig.ok());
    CHECK(sig->size() == 256);
    CHECK(VerifyJwsSignature(alg, *pub, "a.b", *sig).ok());
    CHECK_FALSE(VerifyJwsSignature(alg, *pub, "a.c", *sig).ok());
  }
  auto rs = JwsSigner::Create(key, JwsAlgorithm::kRs256)->Sign("a.b");
  CHECK_FALSE(VerifyJwsSignature(JwsAlgorithm::kPs256, *pub, "a.b", *rs).ok());
  auto ps = JwsSigner::Create(key, JwsAlgorithm::kPs256)->Sign("a.b");
  CHECK_FALSE(VerifyJwsSignature(JwsAlgorithm::kRs256, *pub, "a.b", *ps).ok());
  CHECK_FALSE(VerifyJwsSignature(JwsAlgorithm::kPs384, *pub, "a.b", *ps).ok());
}

TEST_CASE("malformed ECDSA encodings are rejected") {
  CHECK_FALSE(EcdsaRawToDer("").ok());
  CHECK_FALSE(EcdsaRawToDer("abc").ok());
  CHECK_FALSE(EcdsaDerToRaw("not der", 32).ok());
  auto der = EcdsaRawToDer(std::string(64, '\x7f'));
  REQUIRE(der.ok());
  CHECK_FALSE(EcdsaDerToRaw(*der + "x", 32).ok());  // trailing bytes
  CHECK_FALSE(EcdsaDerToRaw(*der, 16).ok());        // values wider than the field
  auto pub = PrivateKey::Generate()->Public();
  CHECK_FALSE(VerifyJwsSignature(JwsAlgorithm::kEs256, *pub, "a.b", std::string(64, '\0')).ok());
  CHECK_FALSE(VerifyJwsSignature(JwsAlgorithm::kEs256, *pub, "a.b", std::string(63, 'x')).ok());
}
