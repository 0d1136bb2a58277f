// Attacks on JWT-SVID validation (tests common/jwt_svid.cc), one case per attack.
#include <doctest/doctest.h>

#include <string>

#include "common/jwk.h"
#include "common/jwt_svid.h"
#include "tests/common/jwt_test_world.h"

TEST_CASE("attack: alg none is rejected") {
  World w;
  std::string input = Segment(w.Header("none")) + "." + Segment(w.Payload());
  CheckRejected(w.Validate(input + "."), "alg \"none\" is not allowed");
  CheckRejected(w.Validate(input + ".c2ln"), "alg \"none\" is not allowed");
  json header = w.Header();
  header.erase("alg");
  CheckRejected(w.Validate(w.Forge(header, w.Payload())), "no \"alg\"");
  header["alg"] = json::array({"ES256"});
  CheckRejected(w.Validate(w.Forge(header, w.Payload())), "\"alg\" is not a string");
  CheckRejected(w.Validate(w.Forge(w.Header("EdDSA"), w.Payload())), "alg \"EdDSA\"");
  CheckRejected(w.Validate(w.Forge(w.Header("es256"), w.Payload())), "alg \"es256\"");
}

TEST_CASE("attack: HS256 signed with the public key as the HMAC secret is rejected") {
  World w;
  const std::string input = Segment(w.Header("HS256")) + "." + Segment(w.Payload());
  for (std::string secret : {*w.key.Public()->ToSpkiDer(), *w.key.Public()->ToPem()}) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                      reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
                      sizeof(mac), &mac_len) != nullptr);
    std::string token =
        input + "." + Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len));
    CheckRejected(w.Validate(token), "alg \"HS256\" is not allowed");
  }
}

TEST_CASE("attack: a kid found only in another trust domain's bundle is rejected") {
  World w;
  // Signed by other.org's key, with its kid, but claiming an example.org subject.
  std::string token = w.Forge(w.Header("ES256", "other-k"), w.Payload(), w.other_key);
  CheckRejected(w.Validate(token), "example.org has no jwt-svid key with kid \"other-k\"");
}

TEST_CASE("attack: a subject outside the signing key's trust domain is rejected") {
  World w;
  json payload = w.Payload();
  payload["sub"] = "spiffe://other.org/impostor";
  // example.org's key k1 signs an other.org subject: k1 is looked up in other.org's bundle.
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "other.org has no jwt-svid key");
  // Even when other.org happens to publish a key under the same kid, the signature fails.
  w.AddJwtKey(w.other_td, "k1", *PrivateKey::Generate()->Public());
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "signature does not verify");
  // And a subject in a trust domain without any bundle is untrusted.
  payload["sub"] = "spiffe://unknown.org/x";
  CheckRejected(w.Validate(w.Forge(w.Header(), payload)), "no bundle for trust domain unknown.org");
}

TEST_CASE("attack: typ other than JWT or JOSE is rejected") {
  World w;
  json header = w.Header();
  for (json bad : {json("jwt"), json("JWS"), json("at+jwt"), json(""), json(1)}) {
    header["typ"] = bad;
    CheckRejected(w.Validate(w.Forge(header, w.Payload())), "typ");
  }
  header["typ"] = "JOSE";
  CHECK(w.Validate(w.Forge(header, w.Payload())).ok());
  header.erase("typ");
  CHECK(w.Validate(w.Forge(header, w.Payload())).ok());
}

TEST_CASE("attack: missing kid, crit headers and duplicate header members") {
  World w;
  json header = w.Header();
  header.erase("kid");
  CheckRejected(w.Validate(w.Forge(header, w.Payload())), "no \"kid\"");
  header["kid"] = "";
  CheckRejected(w.Validate(w.Forge(header, w.Payload())), "\"kid\" is not a non-empty string");
  header["kid"] = 1;
  CheckRejected(w.Validate(w.Forge(header, w.Payload())), "\"kid\"");
  header = w.Header();
  header["crit"] = json::array({"exp"});
  header["exp"] = 1;
  CheckRejected(w.Validate(w.Forge(header, w.Payload())), "crit");
  // {"alg":"ES256","alg":"none",...}: parsers disagree on which wins, so it is refused.
  std::string dup_header = R"({"alg":"ES256","kid":"k1","alg":"none"})";
  std::string input = Base64UrlEncode(dup_header) + "." + Segment(w.Payload());
  std::string token =
      input + "." + Base64UrlEncode(*JwsSigner::Create(w.key, JwsAlgorithm::kEs256)->Sign(input));
  CheckRejected(w.Validate(token), "duplicate member \"alg\"");
}

TEST_CASE("attack: key-carrying headers (jwk, jku, x5u, x5c) are never honoured") {
  World w;
  auto attacker = PrivateKey::Generate();
  json header = w.Header();
  header["jwk"] = *spinel::common::PublicKeyToJwk(*attacker->Public());
  header["jku"] = "https://attacker.example/jwks.json";
  header["x5u"] = "https://attacker.example/cert.pem";
  header["x5c"] = json::array({"MIIB"});
  CheckRejected(w.Validate(w.Forge(header, w.Payload(), *attacker)), "signature does not verify");
  header["kid"] = "attacker";
  CheckRejected(w.Validate(w.Forge(header, w.Payload(), *attacker)), "no jwt-svid key");
  // Signed by the real key, the extra headers are simply ignored.
  header["kid"] = "k1";
  CHECK(w.Validate(w.Forge(header, w.Payload())).ok());
}

TEST_CASE("attack: not a three-segment compact JWS") {
  World w;
  std::string token = w.Mint();
  CheckRejected(w.Validate(token + ".e30.e30"), "JWE");
  CheckRejected(w.Validate(token + ".e30"), "4 segments");
  CheckRejected(w.Validate(token.substr(0, token.rfind('.'))), "2 segments");
  CheckRejected(w.Validate(""), "1 segments");
  CheckRejected(w.Validate(".."), "header");
  CheckRejected(w.Validate("e30.e30.e30"), "no \"alg\"");
  CheckRejected(w.Validate("W10.e30.e30"), "header is not a JSON object");
}

TEST_CASE("attack: a tampered token is rejected") {
  World w;
  std::string token = w.Mint();
  const size_t first = token.find('.');
  const size_t second = token.find('.', first + 1);
  SUBCASE("payload replaced") {
    json payload = w.Payload();
    payload["sub"] = "spiffe://example.org/admin";
    std::string forged = token.substr(0, first + 1) + Segment(payload) + token.substr(second);
    CheckRejected(w.Validate(forged), "signature does not verify");
  }
  SUBCASE("one payload character changed") {
    std::string forged = token;
    forged[first + 5] = forged[first + 5] == 'A' ? 'B' : 'A';
    CHECK_FALSE(w.Validate(forged).ok());
  }
  SUBCASE("signature changed") {
    std::string forged = token;
    forged[second + 3] = forged[second + 3] == 'A' ? 'B' : 'A';
    CheckRejected(w.Validate(forged), "signature");
  }
  SUBCASE("signature in DER, padded or standard base64") {
    std::string raw = *Base64UrlDecode(token.substr(second + 1));
    std::string der = *EcdsaRawToDer(raw);
    CheckRejected(w.Validate(token.substr(0, second + 1) + Base64UrlEncode(der)),
                  "signature must be 64 bytes");
    CheckRejected(w.Validate(token + "="), "signature");
    std::string std_alphabet = token;
    for (size_t i = second + 1; i < std_alphabet.size(); ++i) {
      if (std_alphabet[i] == '-') std_alphabet[i] = '+';
      if (std_alphabet[i] == '_') std_alphabet[i] = '/';
    }
    if (std_alphabet != token) CheckRejected(w.Validate(std_alphabet), "signature");
  }
  SUBCASE("empty signature") {
    CheckRejected(w.Validate(token.substr(0, second + 1)), "signature must be 64 bytes");
  }
}

TEST_CASE("attack: ES256 token against a P-384 key is rejected") {
  World w;
  auto p384 = PrivateKey::Generate(KeyType::kEcP384);
  w.AddJwtKey(w.td, "k384", *p384->Public());
  std::string input = Segment(w.Header("ES256", "k384")) + "." + Segment(w.Payload());
  // An ES256-sized signature made with the P-384 key over SHA-256.
  std::string sig = EvpSign(p384->evp(), EVP_sha256(), input, false);
  CheckRejected(w.Validate(input + "." + Base64UrlEncode(sig)), "needs an EC P-256 key");
  // The same key signing properly as ES384 is fine.
  std::string input384 = Segment(w.Header("ES384", "k384")) + "." + Segment(w.Payload());
  std::string sig384 = EvpSign(p384->evp(), EVP_sha384(), input384, false);
  CHECK(w.Validate(input384 + "." + Base64UrlEncode(sig384)).ok());
}
