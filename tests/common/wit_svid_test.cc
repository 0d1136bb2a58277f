// WIT-SVID minting and validation (common/wit_svid.h; shared/spec/wimse.md §1, §5, §5.1 cases
// 1-8 and 10), and wit-svid keys in SPIFFE bundles (§1.4).
#include <doctest/doctest.h>

#include "common/bundle.h"
#include "common/jwk.h"
#include "tests/common/wimse_test_world.h"

TEST_CASE("a minted WIT-SVID has exactly the header and claims of WIT-SVID §2-§3") {
  WimseWorld w;
  const json header = w.WitHeader();
  CHECK(header == json{{"alg", "ES256"}, {"kid", "wit-1"}, {"typ", "wit+jwt"}});
  const json claims = w.WitClaims();
  CHECK(claims["sub"] == "spiffe://example.org/agent");
  CHECK(claims["iat"] == wimse::kNow);
  CHECK(claims["exp"] == wimse::kNow + 3600);
  CHECK(Base64UrlDecode(claims["jti"].get<std::string>())->size() == 32);
  CHECK_FALSE(claims.contains("aud"));
  CHECK_FALSE(claims.contains("iss"));
  json expected_jwk = *spinel::common::PublicKeyToJwk(*w.workload_key.Public());
  expected_jwk["alg"] = "ES256";
  CHECK(claims["cnf"] == json{{"jwk", expected_jwk}});
  CHECK(claims.size() == 5);

  auto wit = w.ValidateWit(w.wit);
  REQUIRE_MESSAGE(wit.ok(), Message(wit.status()));
  CHECK(wit->subject == w.subject);
  CHECK(wit->kid == "wit-1");
  CHECK(wit->expires_at == w.now + std::chrono::hours(1));
  CHECK(wit->confirmation.algorithm == JwsAlgorithm::kEs256);
  CHECK(wit->confirmation.key.Equals(*w.workload_key.Public()));
  // Two WITs never share a jti.
  CHECK(DecodeSegment(w.MintWit(), 1)["jti"] != claims["jti"]);
}

TEST_CASE("WIT-SVID minting: issuer, RSA cnf keys and refusals") {
  WimseWorld w;
  auto with_iss = WitSvidSigner::Create(w.td, w.wit_key, "wit-1", {"spiffe://example.org"});
  REQUIRE(with_iss.ok());
  auto token = (*with_iss)->Mint({w.subject, w.now, w.now + seconds(60)}, w.Cnf());
  CHECK(DecodeSegment(*token, 1)["iss"] == "spiffe://example.org");
  CHECK_FALSE(WitSvidSigner::Create(w.td, w.wit_key, "wit-1", {"https://example.org"}).ok());
  CHECK_FALSE(WitSvidSigner::Create(w.td, w.wit_key, "").ok());

  PrivateKey rsa = wimse::RsaKey();
  auto ps = w.signer->Mint({w.subject, w.now, w.now + seconds(60)},
                           {*rsa.Public(), JwsAlgorithm::kPs256});
  REQUIRE(ps.ok());
  CHECK(DecodeSegment(*ps, 1)["cnf"]["jwk"]["kty"] == "RSA");
  CHECK(w.ValidateWit(*ps)->confirmation.algorithm == JwsAlgorithm::kPs256);

  // A key that does not fit its algorithm, a subject of another trust domain, exp <= iat.
  CHECK_FALSE(
      w.signer->Mint({w.subject, w.now, w.now + seconds(60)}, {*rsa.Public(), JwsAlgorithm::kEs256})
          .ok());
  CHECK_FALSE(
      w.signer
          ->Mint({*SpiffeId::Parse("spiffe://other.org/x"), w.now, w.now + seconds(60)}, w.Cnf())
          .ok());
  CHECK_FALSE(w.signer->Mint({w.subject, w.now, w.now}, w.Cnf()).ok());
}

TEST_CASE("§5 vectors: the IETF example WIT's signature and hashes") {
  auto june5 = spinel::common::PublicKeyFromJwk(
      json{{"kty", "EC"}, {"crv", "P-256"}, {"x", wimse::kJune5X}, {"y", wimse::kJune5Y}});
  REQUIRE(june5.ok());
  const std::string_view wit = wimse::kIetfWit;
  const size_t dot = wit.rfind('.');
  CHECK(spinel::common::VerifyJwsSignature(JwsAlgorithm::kEs256, *june5, wit.substr(0, dot),
                                           *Base64UrlDecode(wit.substr(dot + 1)))
            .ok());
  CHECK(DecodeSegment(wit, 0) == json{{"alg", "ES256"}, {"kid", "June 5"}, {"typ", "wit+jwt"}});
  CHECK(DecodeSegment(wit, 1)["jti"] == "x-_1CTL2cca3CSE4cwb_l");
  // The published private key is the pair of the published public key.
  CHECK(
      wimse::P256FromJwk(wimse::kJune5D, wimse::kJune5X, wimse::kJune5Y).Public()->Equals(*june5));
  CHECK(*TokenHash(wimse::kIetfWit) == wimse::kIetfWth);
  CHECK(*TokenHash(wimse::kIetfAccessToken) == wimse::kIetfAth);
  CHECK(*TokenHash(std::string("Bearer ") + wimse::kIetfAccessToken) == wimse::kIetfBearerAth);
  // The WIT-SVID appendix example decodes to the claims of §5 (its issuer key is unpublished).
  const json appendix_cnf = {{"jwk",
                              {{"alg", "ES256"},
                               {"crv", "P-256"},
                               {"kty", "EC"},
                               {"x", "rzP7mLCKAHWmsM6X0EwVISC_hI3ujcu95ffUkyeDGGo"},
                               {"y", "uOrfDljtX9m3jY-hsyhLJYaxtGkzDv5e5kmCe58Z97g"}}}};
  auto cnf = spinel::common::ParseConfirmationJwk(appendix_cnf["jwk"]);
  REQUIRE_MESSAGE(cnf.ok(), Message(cnf.status()));
  CHECK(cnf->algorithm == JwsAlgorithm::kEs256);
}

TEST_CASE("§5.1 #1: WIT typ JWT or missing is refused") {
  WimseWorld w;
  json header = w.WitHeader();
  header["typ"] = "JWT";
  CheckRefused(w.ValidateWit(w.SignWit(header, w.WitClaims())), "typ: \"JWT\" is not");
  header.erase("typ");
  CheckRefused(w.ValidateWit(w.SignWit(header, w.WitClaims())), "typ: missing");
  header["typ"] = "WIT+JWT";  // go-spiffe compares the exact string
  CheckRefused(w.ValidateWit(w.SignWit(header, w.WitClaims())), "typ:");
}

TEST_CASE("§5.1 #2: a WIT without cnf, or cnf without jwk, is refused") {
  WimseWorld w;
  json claims = w.WitClaims();
  claims.erase("cnf");
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "cnf: missing");
  claims["cnf"] = json::object();
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "cnf: no \"jwk\"");
  claims["cnf"] = {{"jkt", "abc"}};
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "cnf: no \"jwk\"");
}

TEST_CASE("§5.1 #3: cnf.jwk without alg, or with alg none / HS256, is refused") {
  WimseWorld w;
  json claims = w.WitClaims();
  claims["cnf"]["jwk"].erase("alg");
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "cnf: missing \"alg\"");
  for (const char* alg : {"none", "HS256"}) {
    CAPTURE(alg);
    claims["cnf"]["jwk"]["alg"] = alg;
    CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)),
                 std::string("cnf: algorithm \"") + alg + "\" is not allowed");
  }
  // [Impl] a kty/crv that does not fit alg, and a jwk holding private members.
  claims["cnf"]["jwk"]["alg"] = "ES384";
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "cnf: alg ES384 needs");
  claims["cnf"]["jwk"]["alg"] = "ES256";
  claims["cnf"]["jwk"]["d"] = "AAAA";
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "cnf: JWK: has private key");
}

TEST_CASE("§5.1 #4: EdDSA in cnf.jwk.alg or header alg, none, HS256 are refused") {
  WimseWorld w;
  SUBCASE("cnf.jwk.alg EdDSA (the IETF workload key) in a WIT-SVID we sign") {
    json claims = w.WitClaims();
    claims["cnf"]["jwk"] =
        json{{"alg", "EdDSA"}, {"crv", "Ed25519"}, {"kty", "OKP"}, {"x", wimse::kIetfWorkloadX}};
    CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)),
                 "cnf: algorithm \"EdDSA\" is not allowed");
  }
  SUBCASE("header alg EdDSA / none / HS256") {
    for (const char* alg : {"EdDSA", "none", "HS256"}) {
      CAPTURE(alg);
      json header = w.WitHeader();
      header["alg"] = alg;
      CheckRefused(w.ValidateWit(w.SignWit(header, w.WitClaims())),
                   std::string("alg: algorithm \"") + alg + "\" is not allowed");
    }
  }
  SUBCASE("Baseline A itself, and Baseline A with a SPIFFE sub re-signed by its issuer key") {
    BundleSet bundles;
    Bundle bundle;
    bundle.trust_domain = Td("example.com");
    bundle.wit_authorities.emplace(
        "June 5",
        *spinel::common::PublicKeyFromJwk(
            json{{"kty", "EC"}, {"crv", "P-256"}, {"x", wimse::kJune5X}, {"y", wimse::kJune5Y}}));
    REQUIRE(bundles.Put(bundle).ok());
    const auto now = FromUnixSeconds(wimse::kNow);
    CheckRefused(ValidateWitSvid(wimse::kIetfWit, bundles, now), "sub: not a SPIFFE ID");
    json claims = DecodeSegment(wimse::kIetfWit, 1);
    claims["sub"] = "spiffe://example.com/specific-workload";
    PrivateKey june5 = wimse::P256FromJwk(wimse::kJune5D, wimse::kJune5X, wimse::kJune5Y);
    const std::string resigned = SignJwt(DecodeSegment(wimse::kIetfWit, 0), claims, june5);
    CheckRefused(ValidateWitSvid(resigned, bundles, now),
                 "cnf: algorithm \"EdDSA\" is not allowed");
  }
}

TEST_CASE("§5.1 #5: a WIT-SVID header without kid is refused") {
  WimseWorld w;
  json header = w.WitHeader();
  header.erase("kid");
  CheckRefused(w.ValidateWit(w.SignWit(header, w.WitClaims())), "kid: token header missing key id");
  header["kid"] = "";
  CheckRefused(w.ValidateWit(w.SignWit(header, w.WitClaims())), "kid: not a non-empty string");
}

TEST_CASE("§5.1 #6: a WIT signed by the jwt-svid key (kid only on a use:jwt-svid JWK)") {
  WimseWorld w;
  json header = w.WitHeader();
  header["kid"] = "jwt-1";
  CheckRefused(w.ValidateWit(SignJwt(header, w.WitClaims(), w.jwt_key)),
               "key: trust domain example.org: kid \"jwt-1\" is a jwt-svid key, not a wit-svid");
  header["kid"] = "unknown";
  CheckRefused(w.ValidateWit(w.SignWit(header, w.WitClaims())),
               "key: trust domain example.org "
               "has no wit-svid key");
  // The right kid but another key's signature: no fallback to other keys.
  CheckRefused(w.ValidateWit(SignJwt(w.WitHeader(), w.WitClaims(), w.jwt_key)),
               "signature: ES256 signature does not verify");
}

TEST_CASE("§5.1 #7: sub missing, not a SPIFFE ID, or with a query string") {
  WimseWorld w;
  json claims = w.WitClaims();
  claims.erase("sub");
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "sub: missing");
  for (const char* sub :
       {"wimse://example.com/specific-workload", "spiffe://example.org/agent?x=1"}) {
    CAPTURE(sub);
    claims["sub"] = sub;
    CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "sub: not a SPIFFE ID");
  }
  // A subject of a trust domain without a bundle finds no key.
  claims["sub"] = "spiffe://other.org/agent";
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)),
               "key: no bundle for trust domain other.org");
}

TEST_CASE("§5.1 #8: exp missing or past (beyond leeway), nbf in the future") {
  WimseWorld w;
  json claims = w.WitClaims();
  claims.erase("exp");
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "exp: missing");
  claims["exp"] = wimse::kNow - 60;  // now == exp + leeway (60 s): no longer valid
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "exp: expired");
  claims["exp"] = wimse::kNow - 59;  // within the leeway
  CHECK(w.ValidateWit(w.SignWit(w.WitHeader(), claims)).ok());
  claims["exp"] = wimse::kNow + 600;
  claims["nbf"] = wimse::kNow + 61;
  CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "nbf: not valid before");
  claims["nbf"] = wimse::kNow + 60;
  CHECK(w.ValidateWit(w.SignWit(w.WitHeader(), claims)).ok());
  // iat is never the start of validity.
  claims["iat"] = wimse::kNow + 500;
  CHECK(w.ValidateWit(w.SignWit(w.WitHeader(), claims)).ok());
}

TEST_CASE("§5.1 #10: JWT-SVIDs and WIT-SVIDs are never taken for each other") {
  WimseWorld w;
  SUBCASE("a JWT-SVID (typ JWT, aud, no cnf) presented as a WIT") {
    auto jwt_signer = JwtSvidSigner::Create(w.td, w.jwt_key, "jwt-1");
    const std::string jwt_svid = *(*jwt_signer)
                                      ->Mint({w.subject,
                                              {"https://workload.example.com"},
                                              w.now,
                                              w.now + seconds(300),
                                              json()});
    CheckRefused(w.ValidateWit(jwt_svid), "typ: \"JWT\" is not \"wit+jwt\"");
    CheckRefused(w.Verify(w.MintWpt(), {}, jwt_svid), "WIT-SVID rejected: typ");
    // Even re-typed, it is signed by a jwt-svid key, carries aud and lacks cnf.
    json header = DecodeSegment(jwt_svid, 0);
    header["typ"] = "wit+jwt";
    CheckRefused(w.ValidateWit(SignJwt(header, DecodeSegment(jwt_svid, 1), w.jwt_key)),
                 "is a jwt-svid key, not a wit-svid key");
    CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), DecodeSegment(jwt_svid, 1))),
                 "cnf: missing");
  }
  SUBCASE("a WIT with aud") {
    json claims = w.WitClaims();
    claims["aud"] = "https://workload.example.com";
    CheckRefused(w.ValidateWit(w.SignWit(w.WitHeader(), claims)), "aud: present");
  }
  SUBCASE("a WIT-SVID given to the JWT-SVID validator") {
    CheckRefused(ValidateJwtSvid(w.wit, {"https://workload.example.com"}, w.bundles, w.now),
                 "typ \"wit+jwt\" is neither \"JWT\" nor \"JOSE\"");
    // Without its typ it still has no aud, and its kid is no jwt-svid key.
    json header = w.WitHeader();
    header.erase("typ");
    json claims = w.WitClaims();
    const std::string untyped = w.SignWit(header, claims);
    CHECK_FALSE(ValidateJwtSvid(untyped, {"x"}, w.bundles, w.now).ok());
    claims["aud"] = "x";
    CheckRefused(ValidateJwtSvid(w.SignWit(header, claims), {"x"}, w.bundles, w.now),
                 "has no jwt-svid key with kid \"wit-1\"");
  }
}

TEST_CASE("WIT-SVID token shape: segments, padding, crit, size") {
  WimseWorld w;
  CheckRefused(w.ValidateWit(w.wit + ".x.y"), "token: segments");
  CheckRefused(w.ValidateWit(w.wit + "="), "token: signature");
  CheckRefused(w.ValidateWit(" " + w.wit), "token: header");
  json header = w.WitHeader();
  header["crit"] = json::array({"exp"});
  CheckRefused(w.ValidateWit(w.SignWit(header, w.WitClaims())), "crit:");
  CheckRefused(w.ValidateWit(std::string(spinel::common::kMaxWitSvidBytes + 1, 'a')),
               "token: token of");
  // Unknown header parameters and claims are ignored.
  header.erase("crit");
  header["x-extra"] = 1;
  json claims = w.WitClaims();
  claims["extra"] = "ignored";
  CHECK(w.ValidateWit(w.SignWit(header, claims)).ok());
}

TEST_CASE("bundles carry use=wit-svid keys with kids unique across the whole bundle") {
  WimseWorld w;
  const Bundle* own = w.bundles.Find(w.td);
  auto jwks = own->ToJwks();
  REQUIRE(jwks.ok());
  int wit_keys = 0;
  for (const json& jwk : (*jwks)["keys"]) {
    if (jwk["use"] == "wit-svid") {
      ++wit_keys;
      CHECK(jwk["kid"] == "wit-1");
    }
  }
  CHECK(wit_keys == 1);
  auto back = Bundle::FromJwks(w.td, *jwks);
  REQUIRE_MESSAGE(back.ok(), Message(back.status()));
  CHECK(back->Equals(*own));
  CHECK(back->wit_authorities.count("wit-1") == 1);
  CHECK(back->jwt_authorities.count("jwt-1") == 1);
  CHECK(back->FindJwtAuthority("wit-1") == nullptr);

  auto wit_only = json::parse(*own->WitAuthoritiesJson());
  REQUIRE(wit_only["keys"].size() == 1);
  CHECK(wit_only["keys"][0]["use"] == "wit-svid");
  CHECK(json::parse(*own->JwtAuthoritiesJson())["keys"][0]["kid"] == "jwt-1");

  json duplicate = *jwks;
  for (json& jwk : duplicate["keys"]) {
    if (jwk["use"] == "wit-svid") jwk["kid"] = "jwt-1";
  }
  auto refused = Bundle::FromJwks(w.td, duplicate);
  REQUIRE_FALSE(refused.ok());
  CHECK(Message(refused.status()).find("duplicate kid \"jwt-1\"") != std::string::npos);
  Bundle changed = *back;
  changed.wit_authorities.clear();
  CHECK_FALSE(changed.Equals(*own));
}
