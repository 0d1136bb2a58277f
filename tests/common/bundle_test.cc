#include "common/bundle.h"

#include <doctest/doctest.h>

#include <string>

#include "common/base64.h"
#include "common/jwk.h"
#include "common/ssl_ptr.h"
#include "common/x509_svid_validator.h"
#include "tests/common/jose_vectors.h"
#include "tests/fakes/test_ca.h"

using nlohmann::json;
using spinel::common::Base64Encode;
using spinel::common::Bundle;
using spinel::common::BundleSet;
using spinel::common::Certificate;
using spinel::common::KeyType;
using spinel::common::PrivateKey;
using spinel::common::PublicKey;
using spinel::common::PublicKeyToJwk;
using spinel::common::SslPtr;
using spinel::common::TrustDomain;

namespace {

TrustDomain Td(std::string_view name) { return *TrustDomain::Parse(name); }

// A minimal self-signed CA certificate for `key` (the bundle code only needs a parseable
// certificate and its public key).
Certificate SelfSigned(const PrivateKey& key, long serial) {
  SslPtr<X509> x509(X509_new());
  REQUIRE(x509);
  REQUIRE(X509_set_version(x509.get(), 2) == 1);
  REQUIRE(ASN1_INTEGER_set(X509_get_serialNumber(x509.get()), serial) == 1);
  REQUIRE(X509_gmtime_adj(X509_getm_notBefore(x509.get()), 0) != nullptr);
  REQUIRE(X509_gmtime_adj(X509_getm_notAfter(x509.get()), 3600) != nullptr);
  X509_NAME* name = X509_get_subject_name(x509.get());
  REQUIRE(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("SPIFFE"), -1, -1,
                                     0) == 1);
  REQUIRE(X509_set_issuer_name(x509.get(), name) == 1);
  REQUIRE(X509_set_pubkey(x509.get(), key.evp()) == 1);
  REQUIRE(X509_sign(x509.get(), key.evp(), EVP_sha256()) > 0);
  return Certificate::Adopt(std::move(x509));
}

PublicKey RsaPublic() {
  SslPtr<EVP_PKEY> pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  REQUIRE(pkey);
  return *PublicKey::FromEvp(pkey.get());
}

Bundle SampleBundle() {
  Bundle bundle;
  bundle.trust_domain = Td("example.org");
  bundle.x509_authorities.push_back(SelfSigned(*PrivateKey::Generate(), 1));
  bundle.x509_authorities.push_back(SelfSigned(*PrivateKey::Generate(KeyType::kEcP384), 2));
  bundle.jwt_authorities.emplace("jwt-ec", *PrivateKey::Generate()->Public());
  bundle.jwt_authorities.emplace("jwt-rsa", RsaPublic());
  bundle.sequence = 7;
  bundle.refresh_hint_seconds = 300;
  return bundle;
}

json X509Jwk(const Certificate& cert) {
  json jwk = *PublicKeyToJwk(*cert.GetPublicKey());
  jwk["use"] = "x509-svid";
  jwk["x5c"] = json::array({Base64Encode(cert.ToDer())});
  return jwk;
}

json JwtJwk(const PublicKey& key, const std::string& kid) {
  json jwk = *PublicKeyToJwk(key);
  jwk["use"] = "jwt-svid";
  jwk["kid"] = kid;
  return jwk;
}

absl::StatusOr<Bundle> ParseKeys(const json& keys) {
  return Bundle::FromJwks(Td("example.org"), json{{"keys", keys}});
}

std::string Message(const absl::Status& s) { return std::string(s.message()); }

void CheckRejected(const absl::StatusOr<Bundle>& r, const std::string& needle) {
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_MESSAGE(Message(r.status()).find(needle) != std::string::npos, Message(r.status()));
}

}  // namespace

TEST_CASE("a bundle round-trips through its JWK Set encoding") {
  Bundle bundle = SampleBundle();
  auto text = bundle.ToJson();
  REQUIRE(text.ok());
  auto back = Bundle::Parse(Td("example.org"), *text);
  REQUIRE(back.ok());
  CHECK(back->Equals(bundle));
  CHECK(back->sequence == 7u);
  CHECK(back->refresh_hint_seconds == 300);
  CHECK_FALSE(back->Equals(Bundle{}));
}

TEST_CASE("the encoding follows the SPIFFE bundle format") {
  Bundle bundle = SampleBundle();
  json doc = json::parse(*bundle.ToJson());
  CHECK(doc["spiffe_sequence"] == 7);
  CHECK(doc["spiffe_refresh_hint"] == 300);
  REQUIRE(doc["keys"].size() == 4);
  int x509 = 0;
  int jwt = 0;
  for (const json& jwk : doc["keys"]) {
    if (jwk["use"] == "x509-svid") {
      ++x509;
      CHECK_FALSE(jwk.contains("kid"));
      REQUIRE(jwk["x5c"].size() == 1);
      CHECK(jwk["kty"] == "EC");
    } else {
      CHECK(jwk["use"] == "jwt-svid");
      ++jwt;
      CHECK(jwk["kid"].is_string());
      CHECK_FALSE(jwk.contains("x5c"));
    }
  }
  CHECK(x509 == 2);
  CHECK(jwt == 2);
  Bundle bare;
  bare.trust_domain = Td("example.org");
  CHECK(*bare.ToJson() == R"({"keys":[]})");
}

TEST_CASE("Workload API encodings: X.509 authorities as DER and PEM, JWT-only JWK Set") {
  Bundle bundle = SampleBundle();
  auto der_chain = Certificate::ParseDerChain(bundle.X509AuthoritiesDer());
  REQUIRE(der_chain.ok());
  REQUIRE(der_chain->size() == 2);
  CHECK((*der_chain)[1].Equals(bundle.x509_authorities[1]));
  auto pem_chain = Certificate::ParsePemChain(bundle.X509AuthoritiesPem());
  REQUIRE(pem_chain.ok());
  CHECK(pem_chain->size() == 2);
  auto jwt_only = bundle.JwtAuthoritiesJson();
  REQUIRE(jwt_only.ok());
  json doc = json::parse(*jwt_only);
  CHECK(doc.size() == 1);  // no spiffe_sequence / spiffe_refresh_hint
  for (const json& jwk : doc["keys"]) CHECK(jwk["use"] == "jwt-svid");
  auto parsed = Bundle::Parse(Td("example.org"), *jwt_only);
  REQUIRE(parsed.ok());
  CHECK(parsed->x509_authorities.empty());
  CHECK(parsed->jwt_authorities.size() == 2);
}

TEST_CASE("a bundle written by another implementation parses (Python cryptography)") {
  auto bundle = Bundle::Parse(Td("example.org"), spinel::testing::kPythonBundleJson);
  REQUIRE(bundle.ok());
  REQUIRE(bundle->x509_authorities.size() == 1);
  CHECK(bundle->x509_authorities[0].UriSans() == std::vector<std::string>{"spiffe://example.org"});
  CHECK(bundle->x509_authorities[0].GetPublicKey()->type() == KeyType::kEcP384);
  CHECK(bundle->FindJwtAuthority("py-ec")->type() == KeyType::kEcP256);
  CHECK(bundle->FindJwtAuthority("py-rsa")->type() == KeyType::kRsa);
  CHECK(bundle->FindJwtAuthority("nope") == nullptr);
  CHECK(bundle->sequence == 42u);
  CHECK(bundle->refresh_hint_seconds == 300);
}

TEST_CASE("D1/D2: the document is an object with a keys array, which may be empty") {
  CheckRejected(Bundle::Parse(Td("example.org"), "{"), "malformed JSON");
  CheckRejected(Bundle::Parse(Td("example.org"), ""), "malformed JSON");
  CheckRejected(Bundle::Parse(Td("example.org"), "[]"), "must be a JSON object");
  CheckRejected(Bundle::Parse(Td("example.org"), "{}"), "missing \"keys\"");
  CheckRejected(Bundle::Parse(Td("example.org"), R"({"keys":{}})"), "must be an array");
  CheckRejected(Bundle::Parse(Td("example.org"), R"({"keys":null})"), "must be an array");
  CheckRejected(Bundle::Parse(Td("example.org"), R"({"keys":[],"keys":[]})"), "duplicate");
  CheckRejected(Bundle::Parse(Td("example.org"), R"({"keys":[]} x)"), "malformed JSON");
  CheckRejected(Bundle::Parse(TrustDomain(), R"({"keys":[]})"), "no trust domain");
  auto empty = Bundle::Parse(Td("example.org"), R"({"keys":[]})");
  REQUIRE(empty.ok());
  CHECK(empty->x509_authorities.empty());
  CHECK(empty->jwt_authorities.empty());
  CHECK_FALSE(empty->sequence.has_value());
  CHECK_FALSE(empty->refresh_hint_seconds.has_value());
}

TEST_CASE("D3/D4: spiffe_sequence and spiffe_refresh_hint are 64-bit integers") {
  auto parse = [](const std::string& members) {
    return Bundle::Parse(Td("example.org"), "{\"keys\":[]," + members + "}");
  };
  CHECK(parse(R"("spiffe_sequence":18446744073709551615)")->sequence == 18446744073709551615u);
  CheckRejected(parse(R"("spiffe_sequence":18446744073709551616)"), "spiffe_sequence");
  CheckRejected(parse(R"("spiffe_sequence":-1)"), "spiffe_sequence");
  CheckRejected(parse(R"("spiffe_sequence":1.5)"), "spiffe_sequence");
  CheckRejected(parse(R"("spiffe_sequence":"1")"), "spiffe_sequence");
  CHECK(parse(R"("spiffe_refresh_hint":9223372036854775807)")->refresh_hint_seconds == INT64_MAX);
  CHECK(parse(R"("spiffe_refresh_hint":-5)")->refresh_hint_seconds == -5);
  CheckRejected(parse(R"("spiffe_refresh_hint":9223372036854775808)"), "spiffe_refresh_hint");
  CheckRejected(parse(R"("spiffe_refresh_hint":"300")"), "spiffe_refresh_hint");
  CheckRejected(parse(R"("spiffe_refresh_hint":300.0)"), "spiffe_refresh_hint");
}

TEST_CASE("D5: unknown top-level members are ignored") {
  auto bundle =
      Bundle::Parse(Td("example.org"), R"({"keys":[],"spiffe_future":{"x":[1,2]},"note":"hi"})");
  CHECK(bundle.ok());
}

TEST_CASE("D6: a JWK with an unknown kty is ignored, a missing or mistyped kty is an error") {
  json okp = {{"kty", "OKP"},
              {"crv", "Ed25519"},
              {"x", "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
              {"use", "jwt-svid"},
              {"kid", "ed"}};
  json oct = {{"kty", "oct"}, {"k", "c2VjcmV0"}, {"use", "jwt-svid"}, {"kid", "hmac"}};
  auto bundle = ParseKeys(json::array({okp, oct, JwtJwk(*PrivateKey::Generate()->Public(), "ok")}));
  REQUIRE(bundle.ok());
  CHECK(bundle->jwt_authorities.size() == 1);
  CHECK(bundle->FindJwtAuthority("ok") != nullptr);
  json no_kty = JwtJwk(*PrivateKey::Generate()->Public(), "k");
  no_kty.erase("kty");
  CheckRejected(ParseKeys(json::array({no_kty})), "keys[0]: \"kty\"");
  no_kty["kty"] = 3;
  CheckRejected(ParseKeys(json::array({no_kty})), "\"kty\"");
  CheckRejected(ParseKeys(json::array({"not an object"})), "keys[0]: must be an object");
}

TEST_CASE("D7: a JWK with a missing or unknown use is ignored") {
  PublicKey key = *PrivateKey::Generate()->Public();
  json no_use = JwtJwk(key, "a");
  no_use.erase("use");
  json wit = JwtJwk(key, "b");
  wit["use"] = "wit-svid";
  json upper = JwtJwk(key, "c");
  upper["use"] = "JWT-SVID";  // use values are case-sensitive
  json sig = JwtJwk(key, "d");
  sig["use"] = "sig";
  auto bundle = ParseKeys(json::array({no_use, wit, upper, sig}));
  REQUIRE(bundle.ok());
  CHECK(bundle->jwt_authorities.empty());
  CHECK(bundle->x509_authorities.empty());
  json bad = JwtJwk(key, "e");
  bad["use"] = json::array({"jwt-svid"});
  CheckRejected(ParseKeys(json::array({bad})), "\"use\" must be a string");
}

TEST_CASE("x509-svid entries: x5c absent or empty is ignored, the first of several is used") {
  Certificate first = SelfSigned(*PrivateKey::Generate(), 10);
  Certificate second = SelfSigned(*PrivateKey::Generate(), 11);
  json absent = X509Jwk(first);
  absent.erase("x5c");
  json empty = X509Jwk(first);
  empty["x5c"] = json::array();
  json several = X509Jwk(first);
  several["x5c"].push_back(Base64Encode(second.ToDer()));
  auto bundle = ParseKeys(json::array({absent, empty, several}));
  REQUIRE(bundle.ok());
  REQUIRE(bundle->x509_authorities.size() == 1);
  CHECK(bundle->x509_authorities[0].Equals(first));
  // A kid on an x509-svid entry is tolerated (producers should not set one).
  json with_kid = X509Jwk(first);
  with_kid["kid"] = "x";
  CHECK(ParseKeys(json::array({with_kid}))->x509_authorities.size() == 1);
}

TEST_CASE("x509-svid entries: the x5c certificate must parse and match the key members") {
  Certificate cert = SelfSigned(*PrivateKey::Generate(), 12);
  json jwk = X509Jwk(cert);
  SUBCASE("not base64") {
    jwk["x5c"] = json::array({"!!!!"});
    CheckRejected(ParseKeys(json::array({jwk})), "keys[0]: x5c[0]: base64");
  }
  SUBCASE("base64url instead of base64 padding") {
    std::string der = cert.ToDer();
    jwk["x5c"] = json::array({spinel::common::Base64UrlEncode(der + "\xff")});
    CheckRejected(ParseKeys(json::array({jwk})), "x5c[0]");
  }
  SUBCASE("not a certificate") {
    jwk["x5c"] = json::array({Base64Encode("not a certificate")});
    CheckRejected(ParseKeys(json::array({jwk})), "x5c[0]");
  }
  SUBCASE("two certificates in one x5c value") {
    jwk["x5c"] = json::array({Base64Encode(cert.ToDer() + cert.ToDer())});
    CheckRejected(ParseKeys(json::array({jwk})), "x5c[0]");
  }
  SUBCASE("wrong types") {
    jwk["x5c"] = Base64Encode(cert.ToDer());
    CheckRejected(ParseKeys(json::array({jwk})), "\"x5c\" must be an array");
    jwk["x5c"] = json::array({5});
    CheckRejected(ParseKeys(json::array({jwk})), "must be strings");
  }
  SUBCASE("key members of another key") {
    json other = *PublicKeyToJwk(*PrivateKey::Generate()->Public());
    jwk["x"] = other["x"];
    jwk["y"] = other["y"];
    CheckRejected(ParseKeys(json::array({jwk})), "do not match");
  }
  SUBCASE("missing key members") {
    jwk.erase("y");
    CheckRejected(ParseKeys(json::array({jwk})), "\"y\"");
  }
}

TEST_CASE("jwt-svid entries need a unique non-empty kid and a valid key") {
  PublicKey key = *PrivateKey::Generate()->Public();
  json no_kid = JwtJwk(key, "k");
  no_kid.erase("kid");
  CheckRejected(ParseKeys(json::array({no_kid})), "keys[0]: a jwt-svid key needs");
  CheckRejected(ParseKeys(json::array({JwtJwk(key, "")})), "non-empty");
  json number_kid = JwtJwk(key, "k");
  number_kid["kid"] = 1;
  CheckRejected(ParseKeys(json::array({number_kid})), "kid");
  CheckRejected(ParseKeys(json::array({JwtJwk(key, "k"), JwtJwk(RsaPublic(), "k")})),
                "keys[1]: duplicate kid \"k\"");
  json bad_key = JwtJwk(key, "k");
  bad_key["crv"] = "P-384";
  CheckRejected(ParseKeys(json::array({bad_key})), "keys[0]: JWK");
  json with_private = JwtJwk(key, "k");
  with_private["d"] = "AAAA";
  CheckRejected(ParseKeys(json::array({with_private})), "private");
}

TEST_CASE("bundle JSON above the size limit is rejected before parsing") {
  std::string huge =
      R"({"keys":[],"pad":")" + std::string(spinel::common::kMaxBundleJsonBytes, 'a') + "\"}";
  CheckRejected(Bundle::Parse(Td("example.org"), huge), "exceeds");
}

TEST_CASE("a bundle set keeps one bundle per trust domain and never merges them") {
  BundleSet set;
  Bundle a = SampleBundle();
  Bundle b;
  b.trust_domain = Td("other.org");
  b.jwt_authorities.emplace("other-k", *PrivateKey::Generate()->Public());
  REQUIRE(set.Put(a).ok());
  REQUIRE(set.Put(b).ok());
  CHECK_FALSE(set.Put(Bundle{}).ok());
  CHECK(set.size() == 2);
  CHECK(set.Find(Td("example.org"))->Equals(a));
  CHECK(set.Find(Td("nowhere.org")) == nullptr);

  CHECK(set.FindJwtAuthority(Td("example.org"), "jwt-ec").ok());
  auto cross = set.FindJwtAuthority(Td("example.org"), "other-k");
  CHECK(cross.status().code() == absl::StatusCode::kNotFound);
  CHECK(Message(cross.status()).find("has no jwt-svid key with kid \"other-k\"") !=
        std::string::npos);
  auto missing = set.FindJwtAuthority(Td("nowhere.org"), "jwt-ec");
  CHECK(Message(missing.status()).find("no bundle for trust domain nowhere.org") !=
        std::string::npos);

  CHECK(set.X509AuthoritiesFor(Td("example.org"))->size() == 2);
  CHECK(set.X509AuthoritiesFor(Td("other.org"))->empty());
  CHECK_FALSE(set.X509AuthoritiesFor(Td("nowhere.org")).has_value());

  // A new bundle for a trust domain replaces the old one as a whole.
  Bundle b2;
  b2.trust_domain = Td("other.org");
  b2.jwt_authorities.emplace("other-k2", *PrivateKey::Generate()->Public());
  REQUIRE(set.Put(b2).ok());
  CHECK_FALSE(set.FindJwtAuthority(Td("other.org"), "other-k").ok());
  CHECK(set.FindJwtAuthority(Td("other.org"), "other-k2").ok());
  CHECK(set.Find(Td("example.org"))->jwt_authorities.size() == 2);
  CHECK(set.Remove(Td("other.org")));
  CHECK_FALSE(set.Remove(Td("other.org")));
  CHECK(set.size() == 1);
}

TEST_CASE("a bundle set decoded from JSON drives X509-SVID verification, per trust domain") {
  const auto now = spinel::common::SystemClock::Get().Now();
  auto ca = spinel::testing::TestCa::Root("example.org", now);
  auto other_ca = spinel::testing::TestCa::Root("other.org", now);
  Bundle bundle;
  bundle.trust_domain = ca.td();
  bundle.x509_authorities.push_back(ca.root());
  // Through the JSON encoding, as a federated bundle would arrive.
  auto parsed = Bundle::Parse(ca.td(), *bundle.ToJson());
  REQUIRE(parsed.ok());
  BundleSet set;
  REQUIRE(set.Put(*parsed).ok());
  auto leaf = ca.Mint("spiffe://example.org/workload", now);
  auto verified = spinel::common::VerifyX509Svid(ca.ChainFor(leaf.cert), set, now);
  REQUIRE_MESSAGE(verified.ok(), Message(verified.status()));
  CHECK(verified->id.ToString() == "spiffe://example.org/workload");
  // No bundle for other.org: its SVIDs are untrusted, and example.org's authorities filed
  // under other.org's name do not vouch for them either.
  auto foreign = other_ca.Mint("spiffe://other.org/workload", now);
  CHECK_FALSE(spinel::common::VerifyX509Svid(other_ca.ChainFor(foreign.cert), set, now).ok());
  Bundle wrong = *parsed;
  wrong.trust_domain = other_ca.td();
  REQUIRE(set.Put(wrong).ok());
  CHECK_FALSE(spinel::common::VerifyX509Svid(other_ca.ChainFor(foreign.cert), set, now).ok());
  Bundle other;
  other.trust_domain = other_ca.td();
  other.x509_authorities.push_back(other_ca.root());
  REQUIRE(set.Put(other).ok());
  CHECK(spinel::common::VerifyX509Svid(other_ca.ChainFor(foreign.cert), set, now).ok());
  set.Remove(ca.td());
  CHECK_FALSE(spinel::common::VerifyX509Svid(ca.ChainFor(leaf.cert), set, now).ok());
}
