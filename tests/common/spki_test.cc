#include "common/spki.h"

#include <doctest/doctest.h>

#include "common/der_writer.h"

using spinel::common::DerBitString;
using spinel::common::DerOid;
using spinel::common::EncodeSpki;
using spinel::common::KeyType;
using spinel::common::ParseSpki;
using spinel::common::PrivateKey;
using spinel::common::PublicKey;
using spinel::common::SslPtr;
using spinel::common::Tlv;
namespace der = spinel::common::der;

namespace {

// An EC SubjectPublicKeyInfo with `point` on the named curve `curve_nid`.
std::string EcSpki(int curve_nid, std::string_view point) {
  std::string algorithm = Tlv(der::kSequence, DerOid(NID_X9_62_id_ecPublicKey) + DerOid(curve_nid));
  return Tlv(der::kSequence, algorithm + DerBitString(point));
}

// The uncompressed point of a P-256 SPKI (its last 65 bytes).
std::string PointOf(const std::string& spki) { return spki.substr(spki.size() - 65); }

}  // namespace

TEST_CASE("ParseSpki agrees with OpenSSL's decoder for every EC curve") {
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kEcP521}) {
    CAPTURE(spinel::common::KeyTypeName(type));
    auto pub = PrivateKey::Generate(type)->Public();
    REQUIRE(pub.ok());
    auto der = pub->ToSpkiDer();
    REQUIRE(der.ok());
    auto parsed = ParseSpki(*der);
    REQUIRE(parsed.ok());
    CHECK(parsed->key.Equals(*pub));
    CHECK(parsed->key.type() == type);
    CHECK(parsed->der == *der);
    CHECK(*EncodeSpki(pub->evp()) == *der);
  }
}

TEST_CASE("ParseSpki accepts compressed points and rejects points that are not on the curve") {
  auto pub = *PrivateKey::Generate()->Public();
  std::string point = PointOf(*pub.ToSpkiDer());
  std::string compressed(1, static_cast<char>((point.back() & 1) ? 0x03 : 0x02));
  compressed += point.substr(1, 32);
  auto parsed = ParseSpki(EcSpki(NID_X9_62_prime256v1, compressed));
  REQUIRE(parsed.ok());
  CHECK(parsed->key.Equals(pub));

  std::string off_curve = point;
  off_curve.back() = static_cast<char>(off_curve.back() ^ 0x01);
  auto bad = ParseSpki(EcSpki(NID_X9_62_prime256v1, off_curve));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(bad.status().message()).find("not a point on the curve") != std::string::npos);

  for (const std::string& malformed : {std::string(1, '\0'), point.substr(0, 64),
                                       std::string(65, '\x04'), std::string("\x05") + point}) {
    CHECK_FALSE(ParseSpki(EcSpki(NID_X9_62_prime256v1, malformed)).ok());
  }
  // A P-256 point labelled as P-384, and a curve Spinel does not support.
  CHECK_FALSE(ParseSpki(EcSpki(NID_secp384r1, point)).ok());
  CHECK_FALSE(ParseSpki(EcSpki(NID_secp256k1, point)).ok());
}

TEST_CASE("ParseSpki takes other key types through OpenSSL and rejects malformed DER") {
  SslPtr<EVP_PKEY> rsa(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  REQUIRE(rsa != nullptr);
  auto rsa_pub = PublicKey::FromEvp(rsa.get());
  REQUIRE(rsa_pub.ok());
  auto der = rsa_pub->ToSpkiDer();
  auto parsed = ParseSpki(*der);
  REQUIRE(parsed.ok());
  CHECK(parsed->key.type() == KeyType::kRsa);
  CHECK(parsed->der == *der);
  CHECK(*EncodeSpki(rsa.get()) == *der);

  SslPtr<EVP_PKEY> weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  unsigned char* weak_der = nullptr;
  int len = i2d_PUBKEY(weak.get(), &weak_der);
  spinel::common::OpensslBuffer<unsigned char> owned(weak_der);
  CHECK_FALSE(ParseSpki(std::string(reinterpret_cast<char*>(weak_der), len)).ok());

  std::string p256 = *PrivateKey::Generate()->Public()->ToSpkiDer();
  for (const std::string& bad : {std::string(), std::string("garbage"), p256 + "x",
                                 p256.substr(0, p256.size() - 1), p256.substr(2)}) {
    auto result = ParseSpki(bad);
    CHECK_FALSE(result.ok());
    CHECK(result.status().code() == absl::StatusCode::kInvalidArgument);
  }
}
