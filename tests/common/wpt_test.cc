// Workload Proof Tokens (common/wpt.h, common/wpt_verifier.h), their HTTP headers
// (common/workload_proof_request.h) and Txn-Token binding (common/txn_token.h):
// shared/spec/wimse.md §3, §4.2, §5 and the §5.1 cases 9 and 11-20.
#include <doctest/doctest.h>

#include "common/txn_token.h"
#include "tests/common/wimse_test_world.h"

using spinel::common::ProvenRequest;
using spinel::common::TxnTokenTrust;
using spinel::common::WorkloadProofRequestVerifier;

namespace {

// A request verifier over `w`, trusting the Txn-Token service key `tts` (kid "tts-1") for
// trust domain "example.org".
struct RequestWorld {
  WimseWorld w;
  PrivateKey tts = std::move(*PrivateKey::Generate());
  std::unique_ptr<WorkloadProofRequestVerifier> verifier;

  explicit RequestWorld(WptVerificationOptions options = {}) : w(std::move(options)) {
    TxnTokenTrust trust;
    trust.trust_domain = "example.org";
    trust.keys.emplace("tts-1", *tts.Public());
    verifier = std::make_unique<WorkloadProofRequestVerifier>(*w.verifier, trust);
  }
  json TxnClaims() const {
    return {{"iat", wimse::kNow},
            {"aud", "example.org"},
            {"exp", wimse::kNow + 120},
            {"txn", "97053963-771d-49cc-a4e3-20aad399c312"},
            {"sub", "d084sdrt234fsaw34tr23t"},
            {"req_wl", "apigateway.example.org"},
            {"scope", "trade.stocks"}};
  }
  json TxnHeader() const { return {{"typ", "txntoken+jwt"}, {"alg", "ES256"}, {"kid", "tts-1"}}; }
  std::string Txn(const json& header, const json& claims) const {
    return SignJwt(header, claims, tts);
  }
  // The two WIMSE headers for `tokens`, plus `extra` fields.
  std::vector<HttpHeader> Headers(BoundTokens tokens = {}, std::vector<HttpHeader> extra = {}) {
    auto headers = spinel::common::WorkloadProofHeaders(w.wit, w.workload_key,
                                                        w.Params(std::move(tokens)), w.now);
    REQUIRE(headers.ok());
    for (HttpHeader& h : extra) headers->push_back(std::move(h));
    return *headers;
  }
  absl::StatusOr<ProvenRequest> Verify(const std::vector<HttpHeader>& headers) const {
    return verifier->Verify(headers, wimse::kTarget, w.now);
  }
};

}  // namespace

TEST_CASE("a created WPT has exactly the §3.1 header and claims and verifies") {
  WimseWorld w;
  BoundTokens tokens;
  tokens.access_token = wimse::kIetfAccessToken;
  tokens.txn_token = "txn";
  tokens.other_tokens["x-user-token"] = "  user  ";
  const std::string wpt = w.MintWpt(tokens);
  CHECK(DecodeSegment(wpt, 0) == json{{"alg", "ES256"}, {"typ", "wpt+jwt"}});
  const json claims = DecodeSegment(wpt, 1);
  CHECK(claims["aud"] == wimse::kTarget);
  CHECK(claims["exp"] == wimse::kNow + 30);
  CHECK(Base64UrlDecode(claims["jti"].get<std::string>())->size() == 16);
  CHECK(claims["wth"] == *TokenHash(w.wit));
  CHECK(claims["ath"] == wimse::kIetfAth);
  CHECK(claims["tth"] == *TokenHash("txn"));
  CHECK(claims["oth"] == json{{"x-user-token", *TokenHash("user")}});
  CHECK(claims.size() == 7);
  CHECK(DecodeSegment(w.MintWpt(), 1)["jti"] != claims["jti"]);
  CHECK(DecodeSegment(w.MintWpt(), 1).size() == 4);  // no ath/tth/oth without those tokens

  WimseWorld r(WptVerificationOptions{.other_token_headers = {"x-user-token"}});
  r.wit = w.wit;
  REQUIRE(r.bundles.Put(*w.bundles.Find(w.td)).ok());
  auto proven = r.Verify(wpt, tokens);
  REQUIRE_MESSAGE(proven.ok(), Message(proven.status()));
  CHECK(proven->subject == w.subject);
  CHECK(proven->wpt_expires_at == w.now + seconds(30));
  CHECK(proven->access_token_bound);
  CHECK(proven->txn_token_bound);
  CHECK(proven->other_tokens_bound == std::vector<std::string>{"x-user-token"});
}

TEST_CASE("WPT creation: alg follows cnf.jwk.alg; refusals for the wrong key or an expired WIT") {
  WimseWorld w;
  PrivateKey rsa = wimse::RsaKey();
  w.wit = *w.signer->Mint({w.subject, w.now, w.now + seconds(600)},
                          {*rsa.Public(), JwsAlgorithm::kPs384});
  auto wpt = spinel::common::CreateWpt(w.wit, rsa, w.Params(), w.now);
  REQUIRE(wpt.ok());
  CHECK(DecodeSegment(*wpt, 0)["alg"] == "PS384");
  CHECK(w.Verify(*wpt).ok());
  CheckRefused(spinel::common::CreateWpt(w.wit, w.workload_key, w.Params(), w.now),
               "not the WIT's cnf.jwk key");
  CheckRefused(spinel::common::CreateWpt(w.wit, rsa, w.Params(), w.now + seconds(600)),
               "the WIT has expired", absl::StatusCode::kFailedPrecondition);
  WptParams bad = w.Params();
  bad.audience = "https://workload.example.com/path?x=1";
  CheckRefused(spinel::common::CreateWpt(w.wit, rsa, bad, w.now), "without query or fragment");
  bad = w.Params();
  bad.lifetime = std::chrono::hours(1);
  CheckRefused(spinel::common::CreateWpt(w.wit, rsa, bad, w.now), "lifetime");
}

TEST_CASE("§5 vectors: the IETF example WPT's claims bind the example WIT and access token") {
  const json header = DecodeSegment(wimse::kIetfWpt, 0);
  CHECK(header == json{{"alg", "EdDSA"}, {"typ", "wpt+jwt"}});
  const json claims = DecodeSegment(wimse::kIetfWpt, 1);
  CHECK(claims["wth"] == *TokenHash(wimse::kIetfWit));
  CHECK(claims["ath"] == *TokenHash(wimse::kIetfAccessToken));
  CHECK(claims["ath"] != wimse::kIetfBearerAth);
  CHECK(claims["aud"] == wimse::kTarget);
  CHECK(claims["exp"] == 1745510016);
  // Baseline A fails as a WIT-SVID before any proof is looked at (§5.1 #4).
  WimseWorld w;
  BoundTokens tokens;
  tokens.access_token = wimse::kIetfAccessToken;
  CheckRefused(w.Verify(wimse::kIetfWpt, tokens, wimse::kIetfWit), "WIT-SVID rejected: sub");
}

TEST_CASE("§5.1 #9: a WIT in Authorization: Bearer, or without any WPT, is refused") {
  RequestWorld rw;
  const std::string bearer = "Bearer " + rw.w.wit;
  CheckRefused(rw.Verify({{"Authorization", bearer}}), "a WIT-SVID in Authorization");
  CheckRefused(rw.Verify(rw.Headers({}, {{"authorization", bearer}})),
               "a WIT-SVID in Authorization");
  CheckRefused(rw.Verify({{"Workload-Identity-Token", rw.w.wit}}), "no Workload-Proof-Token field");
  // A JWT-SVID validator refuses it too (§5.1 #10 covers the details).
  CHECK_FALSE(ValidateJwtSvid(rw.w.wit, {"x"}, rw.w.bundles, rw.w.now).ok());
  // And a well-formed request passes.
  auto ok = rw.Verify(rw.Headers());
  REQUIRE_MESSAGE(ok.ok(), Message(ok.status()));
  CHECK(ok->workload.subject == rw.w.subject);
}

TEST_CASE("§5.1 #11: two WPT fields, a value that is not one JWT, or WPT typ JWT") {
  RequestWorld rw;
  SUBCASE("two Workload-Proof-Token fields") {
    auto headers = rw.Headers();
    headers.push_back({"workload-proof-token", rw.w.MintWpt()});
    CheckRefused(rw.Verify(headers), "2 Workload-Proof-Token fields");
  }
  SUBCASE("two Workload-Identity-Token fields") {
    auto headers = rw.Headers();
    headers.push_back({"Workload-Identity-Token", rw.w.wit});
    CheckRefused(rw.Verify(headers), "2 Workload-Identity-Token fields");
  }
  SUBCASE("values that are not one compact JWT") {
    const std::string wpt = rw.w.MintWpt();
    for (const std::string& bad : {wpt + ", " + rw.w.MintWpt(), wpt + " ", wpt + "=",
                                   wpt.substr(0, wpt.rfind('.')), std::string("x")}) {
      CheckRefused(rw.w.Verify(bad), "WPT rejected: token:");
    }
  }
  SUBCASE("WPT typ JWT, or missing") {
    json header = rw.w.WptHeader();
    header["typ"] = "JWT";
    CheckRefused(rw.w.Verify(rw.w.SignWpt(header, rw.w.WptClaims())),
                 "WPT rejected: typ: \"JWT\" is not");
    header.erase("typ");
    CheckRefused(rw.w.Verify(rw.w.SignWpt(header, rw.w.WptClaims())), "WPT rejected: typ: missing");
    header["typ"] = "Application/WPT+JWT";  // the media type, compared without case
    CHECK(rw.w.Verify(rw.w.SignWpt(header, rw.w.WptClaims())).ok());
  }
}

TEST_CASE("§5.1 #12: WPT alg differs from cnf.jwk.alg, or the WPT is signed by the issuer key") {
  WimseWorld w;
  SUBCASE("a valid RS256 signature by the cnf key, whose cnf.jwk.alg is PS256") {
    PrivateKey rsa = wimse::RsaKey();
    const std::string wit = *w.signer->Mint({w.subject, w.now, w.now + seconds(600)},
                                            {*rsa.Public(), JwsAlgorithm::kPs256});
    const std::string rs256 = SignJwt({{"alg", "RS256"}, {"typ", "wpt+jwt"}}, w.WptClaims(wit), rsa,
                                      JwsAlgorithm::kRs256);
    CheckRefused(w.Verify(rs256, {}, wit),
                 "WPT rejected: alg: \"RS256\" does not equal the WIT's cnf.jwk.alg PS256");
  }
  SUBCASE("alg ES384 with a valid P-384 signature against an ES256 cnf") {
    PrivateKey p384 = std::move(*PrivateKey::Generate(KeyType::kEcP384));
    CheckRefused(w.Verify(SignJwt({{"alg", "ES384"}, {"typ", "wpt+jwt"}}, w.WptClaims(), p384)),
                 "alg: \"ES384\" does not equal the WIT's cnf.jwk.alg ES256");
  }
  SUBCASE("alg none / HS256 refused before any cryptography") {
    for (const char* alg : {"none", "HS256", "EdDSA"}) {
      CAPTURE(alg);
      const std::string token =
          Segment({{"alg", alg}, {"typ", "wpt+jwt"}}) + "." + Segment(w.WptClaims()) + ".c2ln";
      CheckRefused(w.Verify(token), "WPT rejected: alg:");
    }
  }
  SUBCASE("signed by the WIT issuer's key, not the cnf key") {
    CheckRefused(w.Verify(SignJwt(w.WptHeader(), w.WptClaims(), w.wit_key)),
                 "WPT rejected: signature: not made with the WIT's cnf.jwk key");
  }
}

TEST_CASE("§5.1 #13: wth missing, or computed over a different WIT") {
  WimseWorld w;
  json claims = w.WptClaims();
  claims.erase("wth");
  CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)), "WPT rejected: wth: missing");
  const std::string other_wit = w.MintWit();  // same key and subject, another token
  CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), w.WptClaims(other_wit))),
               "WPT rejected: wth: does not match the hash of the WIT");
  CHECK(w.Verify(w.SignWpt(w.WptHeader(), w.WptClaims(other_wit)), {}, other_wit).ok());
}

TEST_CASE("§5.1 #14: aud of another path, with a query, or from an untrusted Host") {
  RequestWorld rw;
  WimseWorld& w = rw.w;
  json claims = w.WptClaims();
  claims["aud"] = "https://workload.example.com/other";
  CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)),
               "WPT rejected: aud: \"https://workload.example.com/other\" is not");
  claims["aud"] = "https://workload.example.com/path?x=1";
  CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)), "aud: has a query or fragment");
  claims["aud"] = json::array({wimse::kTarget});
  CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)), "aud: not a string");
  // The target's own query is ignored: the WPT names the URI without it.
  claims["aud"] = wimse::kTarget;
  CHECK(w.verifier
            ->Verify({w.wit,
                      w.SignWpt(w.WptHeader(), claims),
                      "https://workload.example.com/path?q=1#f",
                      {}},
                     w.now)
            .ok());
  // Host / X-Forwarded-Host never make an authority trusted.
  WptParams evil = w.Params();
  evil.audience = "https://evil.example/path";
  auto headers = *spinel::common::WorkloadProofHeaders(w.wit, w.workload_key, evil, w.now);
  headers.push_back({"Host", "evil.example"});
  headers.push_back({"X-Forwarded-Host", "evil.example"});
  CheckRefused(rw.Verify(headers), "aud: \"https://evil.example/path\" is not this request's");
}

TEST_CASE("§5.1 #15: WPT exp missing, or passed beyond the leeway") {
  WimseWorld w;
  json claims = w.WptClaims();
  claims.erase("exp");
  CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)), "WPT rejected: exp: missing");
  // The IETF WPT's exp 1745510016 at now = 1745510200, with 60 s leeway.
  claims["exp"] = 1745510016;
  const std::string wpt = w.SignWpt(w.WptHeader(), claims);
  CHECK(w.Verify(wpt).ok());
  w.now = FromUnixSeconds(1745510200);
  CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)), "WPT rejected: exp: expired");
  w.now = FromUnixSeconds(1745510016 + 60);  // now == exp + leeway
  CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)), "WPT rejected: exp: expired");
}

TEST_CASE("§5.1 #16: WPT exp = now + 86400 is unreasonably far in the future") {
  WimseWorld w;
  json claims = w.WptClaims();
  claims["exp"] = wimse::kNow + 86400;
  CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)),
               "WPT rejected: exp: unreasonably far in the future (more than 300 s");
  claims["exp"] = wimse::kNow + 300;
  CHECK(w.Verify(w.SignWpt(w.WptHeader(), claims)).ok());
}

TEST_CASE("§5.1 #17: the same WPT replayed to the same service within its validity") {
  RequestWorld rw;
  const auto headers = rw.Headers();
  REQUIRE(rw.Verify(headers).ok());
  CheckRefused(rw.Verify(headers), "WPT rejected: jti: jti replayed",
               absl::StatusCode::kAlreadyExists);
  rw.w.now += seconds(20);
  CheckRefused(rw.Verify(headers), "jti replayed", absl::StatusCode::kAlreadyExists);
  // A missing jti is refused; the same jti from another subject is another key.
  json claims = rw.w.WptClaims();
  claims.erase("jti");
  CheckRefused(rw.w.Verify(rw.w.SignWpt(rw.w.WptHeader(), claims)), "WPT rejected: jti: missing");
}

TEST_CASE("§5.1 #18: Authorization without ath, ath over \"Bearer ...\", Txn-Token without tth") {
  RequestWorld rw;
  WimseWorld& w = rw.w;
  const HttpHeader authorization{"Authorization", std::string("Bearer ") + wimse::kIetfAccessToken};
  SUBCASE("Authorization but no ath") {
    CheckRefused(rw.Verify(rw.Headers({}, {authorization})),
                 "WPT rejected: ath: missing, but the request carries access token");
  }
  SUBCASE("ath over the whole \"Bearer ...\" value (the §5 wrong hash)") {
    json claims = w.WptClaims();
    claims["ath"] = wimse::kIetfBearerAth;
    std::vector<HttpHeader> headers = {{"Workload-Identity-Token", w.wit},
                                       {"Workload-Proof-Token", w.SignWpt(w.WptHeader(), claims)},
                                       authorization};
    CheckRefused(rw.Verify(headers), "WPT rejected: ath: does not match the hash of the access");
    claims["ath"] = wimse::kIetfAth;
    claims["jti"] = "fresh";
    headers[1].value = w.SignWpt(w.WptHeader(), claims);
    auto ok = rw.Verify(headers);
    REQUIRE_MESSAGE(ok.ok(), Message(ok.status()));
    CHECK(ok->access_token == std::string(wimse::kIetfAccessToken));
  }
  SUBCASE("Txn-Token but no tth") {
    const std::string txn = rw.Txn(rw.TxnHeader(), rw.TxnClaims());
    CheckRefused(rw.Verify(rw.Headers({}, {{"Txn-Token", txn}})),
                 "WPT rejected: tth: missing, but the request carries Txn-Token");
  }
  SUBCASE("[Impl] ath or tth without such a token") {
    BoundTokens tokens;
    tokens.access_token = "absent";
    CheckRefused(rw.Verify(rw.Headers(tokens)), "ath: present, but the request carries no");
    tokens = {};
    tokens.txn_token = "absent";
    CheckRefused(rw.Verify(rw.Headers(tokens)), "tth: present, but the request carries no");
  }
  SUBCASE("Authorization that is not a bearer token, or repeated") {
    CheckRefused(rw.Verify(rw.Headers({}, {{"Authorization", "Basic dXNlcjpwdw=="}})),
                 "Authorization is not \"Bearer <token>\"");
    CheckRefused(rw.Verify(rw.Headers({}, {authorization, authorization})),
                 "2 Authorization fields");
  }
}

TEST_CASE("§5.1 #19: an oth entry not understood, or a key that is not lower-case") {
  RequestWorld rw(WptVerificationOptions{.other_token_headers = {"x-user-token"}});
  WimseWorld& w = rw.w;
  json claims = w.WptClaims();
  SUBCASE("an entry the recipient does not understand") {
    claims["oth"] = {{"x-unknown", *TokenHash("v")}};
    CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)),
                 "WPT rejected: oth: entry \"x-unknown\" is not understood");
  }
  SUBCASE("a key that is not lower-case") {
    claims["oth"] = {{"X-User-Token", *TokenHash("v")}};
    BoundTokens tokens;
    tokens.other_tokens["x-user-token"] = "v";
    CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims), tokens),
                 "WPT rejected: oth: key \"X-User-Token\" is not lower-case");
  }
  SUBCASE("an other token the WPT does not bind, or binds with another value") {
    CheckRefused(rw.Verify(rw.Headers({}, {{"X-User-Token", "v"}})),
                 "oth: the request's \"x-user-token\" token is not bound");
    BoundTokens tokens;
    tokens.other_tokens["x-user-token"] = "other";
    CheckRefused(rw.Verify(rw.Headers(tokens, {{"X-User-Token", "v"}})),
                 "oth: entry \"x-user-token\" does not match");
    CheckRefused(rw.Verify(rw.Headers(tokens)), "names a header the request does not carry");
    claims["oth"] = "not an object";
    CheckRefused(w.Verify(w.SignWpt(w.WptHeader(), claims)), "oth: not an object");
  }
  SUBCASE("bound as sent, hashed with surrounding spaces trimmed") {
    BoundTokens tokens;
    tokens.other_tokens["x-user-token"] = "v";
    auto ok = rw.Verify(rw.Headers(tokens, {{"x-user-token", "  v "}}));
    REQUIRE_MESSAGE(ok.ok(), Message(ok.status()));
    CHECK(ok->workload.other_tokens_bound == std::vector<std::string>{"x-user-token"});
    CheckRefused(rw.Verify(rw.Headers(tokens, {{"x-user-token", "v"}, {"X-User-Token", "v"}})),
                 "2 x-user-token fields");
  }
}

TEST_CASE("§5.1 #20: a Txn-Token of another trust domain, expired, or not typed txntoken+jwt") {
  RequestWorld rw;
  const auto with_txn = [&](const std::string& txn) {
    BoundTokens tokens;
    tokens.txn_token = txn;
    return rw.Verify(rw.Headers(tokens, {{"Txn-Token", txn}}));
  };
  auto ok = with_txn(rw.Txn(rw.TxnHeader(), rw.TxnClaims()));
  REQUIRE_MESSAGE(ok.ok(), Message(ok.status()));
  REQUIRE(ok->txn_token.has_value());
  CHECK(ok->txn_token->scope == "trade.stocks");
  CHECK(ok->txn_token->requesting_workload == "apigateway.example.org");

  json claims = rw.TxnClaims();
  claims["aud"] = "other.example";
  CheckRefused(with_txn(rw.Txn(rw.TxnHeader(), claims)), "Txn-Token rejected: aud: not this trust");
  claims = rw.TxnClaims();
  claims["exp"] = wimse::kNow - 30;
  CheckRefused(with_txn(rw.Txn(rw.TxnHeader(), claims)), "Txn-Token rejected: exp: expired");
  json header = rw.TxnHeader();
  for (const char* typ : {"JWT", "txn_token"}) {
    header["typ"] = typ;
    CheckRefused(with_txn(rw.Txn(header, rw.TxnClaims())), "Txn-Token rejected: typ:");
  }
  // Signed by a key the receiver does not trust, or missing a required claim.
  CheckRefused(with_txn(SignJwt(rw.TxnHeader(), rw.TxnClaims(), rw.w.workload_key)),
               "Txn-Token rejected: signature");
  claims = rw.TxnClaims();
  claims.erase("req_wl");
  CheckRefused(with_txn(rw.Txn(rw.TxnHeader(), claims)), "Txn-Token rejected: claims: \"req_wl\"");
  // A receiver that trusts no Transaction Token Service refuses any Txn-Token.
  WorkloadProofRequestVerifier untrusting(*rw.w.verifier);
  BoundTokens tokens;
  tokens.txn_token = "t";
  CheckRefused(
      untrusting.Verify(rw.Headers(tokens, {{"Txn-Token", "t"}}), wimse::kTarget, rw.w.now),
      "trusts no Transaction Token Service");
}
