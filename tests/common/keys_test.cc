#include "common/keys.h"

#include <doctest/doctest.h>

#include <sstream>

using spinel::common::KeyType;
using spinel::common::PrivateKey;
using spinel::common::PublicKey;

TEST_CASE("P-256 is the default generated key and round-trips through PKCS#8 DER and PEM") {
  auto key = PrivateKey::Generate();
  REQUIRE(key.ok());
  CHECK(key->type() == KeyType::kEcP256);
  auto der = key->ToPkcs8Der();
  REQUIRE(der.ok());
  auto back = PrivateKey::FromPkcs8Der(der->view());
  REQUIRE(back.ok());
  CHECK(back->Public()->Equals(*key->Public()));
  auto pem = key->ToPkcs8Pem();
  REQUIRE(pem.ok());
  CHECK(pem->view().find("-----BEGIN PRIVATE KEY-----") == 0);
  CHECK(PrivateKey::FromPem(pem->view())->Public()->Equals(*key->Public()));
}

TEST_CASE("P-384 keys are generated and typed") {
  auto key = PrivateKey::Generate(KeyType::kEcP384);
  REQUIRE(key.ok());
  CHECK(key->type() == KeyType::kEcP384);
  CHECK(key->Public()->type() == KeyType::kEcP384);
}

TEST_CASE("public keys round-trip through SPKI DER and PEM and compare by value") {
  auto a = PrivateKey::Generate();
  auto b = PrivateKey::Generate();
  auto pub = a->Public();
  REQUIRE(pub.ok());
  auto der = pub->ToSpkiDer();
  REQUIRE(der.ok());
  CHECK(PublicKey::FromSpkiDer(*der)->Equals(*pub));
  CHECK(PublicKey::FromPem(*pub->ToPem())->Equals(*pub));
  CHECK_FALSE(pub->Equals(*b->Public()));
  PublicKey copy = *pub;
  CHECK(copy.Equals(*pub));
}

TEST_CASE("garbage and truncated keys are rejected") {
  CHECK_FALSE(PrivateKey::FromPkcs8Der("not a key").ok());
  CHECK_FALSE(
      PrivateKey::FromPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").ok());
  auto der = PrivateKey::Generate()->ToPkcs8Der();
  CHECK_FALSE(PrivateKey::FromPkcs8Der(der->view().substr(0, der->size() - 5)).ok());
  CHECK_FALSE(PublicKey::FromSpkiDer("").ok());
  auto spki = *PrivateKey::Generate()->Public()->ToSpkiDer();
  CHECK_FALSE(PublicKey::FromSpkiDer(spki + "x").ok());
}

TEST_CASE("private key bytes never print") {
  auto der = PrivateKey::Generate()->ToPkcs8Der();
  std::ostringstream os;
  os << *der;
  CHECK(os.str() == "[redacted]");
  CHECK(der->Equals(der->Clone()));
}
