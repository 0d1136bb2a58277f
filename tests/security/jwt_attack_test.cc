// JWT-SVID attacks against the real spinel-agent: forged tokens presented to its Workload API
// ValidateJWTSVID (`spinel-agent api validate jwt`) and as the subject of an Authorize call
// (`spinel-agent authorize --svid`). The forger holds the real zone signing keys (read from the
// server's data directory) where the attack needs them; a correctly made token from the same
// forger is accepted, so each refusal is the attack's, not the forger's. Every attack must be
// refused: alg "none", HS256 keyed with the zone's public key, a kid from another trust
// domain, a token whose sub is outside the signing key's trust domain, a key the bundle does
// not hold, expired, not yet valid, wrong audience. Unit level: tests/common/
// jwt_svid_attack_test.cc.
#include <doctest/doctest.h>
#include <openssl/hmac.h>

#include <ctime>

#include "common/base64.h"
#include "common/jws.h"
#include "tests/security/attack_util.h"

using nlohmann::json;
using spinel::common::PrivateKey;
using spinel::testing::AgentWorld;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::ShellQuote;
using spinel::testing::ZoneKeys;

namespace {

constexpr char kAudience[] = "db.example.org";

int64_t Now() { return static_cast<int64_t>(std::time(nullptr)); }

json Claims(const std::string& sub, const std::string& aud, int64_t iat, int64_t exp) {
  return {{"sub", sub}, {"aud", json::array({aud})}, {"iat", iat}, {"exp", exp}};
}

std::string Encoded(const json& header, const json& claims) {
  return spinel::common::Base64UrlEncode(header.dump()) + "." +
         spinel::common::Base64UrlEncode(claims.dump());
}

// A compact JWS of `claims` signed with `key` under `kid`, as the server's minter makes them.
std::string Signed(const PrivateKey& key, const std::string& kid, const json& claims) {
  const auto alg = spinel::common::DefaultJwsAlgorithm(key.type());
  const json header = {
      {"alg", std::string(spinel::common::JwsAlgorithmName(alg))}, {"kid", kid}, {"typ", "JWT"}};
  const std::string input = Encoded(header, claims);
  auto signer = spinel::common::JwsSigner::Create(key, alg);
  REQUIRE(signer.ok());
  auto signature = signer->Sign(input);
  REQUIRE(signature.ok());
  return input + "." + spinel::common::Base64UrlEncode(*signature);
}

// HS256 with `secret` as the HMAC key (the "public key as shared secret" confusion).
std::string Hs256(const std::string& secret, const std::string& kid, const json& claims) {
  const std::string input = Encoded({{"alg", "HS256"}, {"kid", kid}, {"typ", "JWT"}}, claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  REQUIRE(HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
               reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
               &mac_len) != nullptr);
  return input + "." +
         spinel::common::Base64UrlEncode(std::string(reinterpret_cast<char*>(mac), mac_len));
}

std::string PublicPem(const PrivateKey& key) {
  auto pub = key.Public();
  REQUIRE(pub.ok());
  auto pem = pub->ToPem();
  REQUIRE(pem.ok());
  return *pem;
}

std::string PublicDer(const PrivateKey& key) {
  auto pub = key.Public();
  REQUIRE(pub.ok());
  auto der = pub->ToSpkiDer();
  REQUIRE(der.ok());
  return *der;
}

CommandResult Validate(const AgentWorld& world, const std::string& token,
                       const std::string& audience = kAudience) {
  return world.Agent("api validate jwt --audience " + ShellQuote(audience) + " --svid " +
                     ShellQuote(token));
}

}  // namespace

TEST_CASE("attack: forged, misbound and stale JWT-SVIDs are refused by the real agent") {
  AgentWorld world;
  ZoneKeys tools = spinel::testing::ReadZoneKeys(world.server, "tools.ai.example.org");
  ZoneKeys training = spinel::testing::ReadZoneKeys(world.server, "training.ai.example.org");
  const std::string runner = spinel::testing::kAttackRunner;
  const int64_t now = Now();
  const json good = Claims(runner, kAudience, now - 10, now + 300);

  // The forger's control: a well-made token with the stolen key is accepted.
  CommandResult accepted = Validate(world, Signed(tools.jwt_key, tools.jwt_kid, good));
  REQUIRE_MESSAGE(accepted.exit_code == 0, accepted.Describe() << world.agent->Log());
  CHECK(Contains(accepted.out, runner));

  struct Attack {
    const char* what;
    std::string token;
    std::string audience;  // the audience validated against
  };
  // Each attack, its token made for `aud`.
  auto attacks_for = [&](const std::string& aud) {
    const json claims = Claims(runner, aud, now - 10, now + 300);
    const std::string unsigned_input =
        Encoded({{"alg", "none"}, {"kid", tools.jwt_kid}, {"typ", "JWT"}}, claims);
    json future = Claims(runner, aud, now + 600, now + 900);
    future["nbf"] = now + 600;
    return std::vector<Attack>{
        {"alg none, empty signature", unsigned_input + ".", aud},
        {"alg none, two segments", unsigned_input, aud},
        {"HS256 keyed with the zone's public key (PEM)",
         Hs256(PublicPem(tools.jwt_key), tools.jwt_kid, claims), aud},
        {"HS256 keyed with the zone's public key (DER)",
         Hs256(PublicDer(tools.jwt_key), tools.jwt_kid, claims), aud},
        {"kid of another trust domain's key, signed with the right zone key",
         Signed(tools.jwt_key, training.jwt_kid, claims), aud},
        {"sub outside the signing key's trust domain (training key and kid, tools sub)",
         Signed(training.jwt_key, training.jwt_kid, claims), aud},
        {"the zone's kid, signed with an attacker's key",
         Signed(spinel::testing::NewAttackKey(), tools.jwt_kid, claims), aud},
        {"expired", Signed(tools.jwt_key, tools.jwt_kid, Claims(runner, aud, now - 900, now - 300)),
         aud},
        {"not yet valid (iat and nbf in the future)", Signed(tools.jwt_key, tools.jwt_kid, future),
         aud},
        {"wrong audience",
         Signed(tools.jwt_key, tools.jwt_kid, Claims(runner, "other", now - 10, now + 300)), aud},
    };
  };
  for (const Attack& attack : attacks_for(kAudience)) {
    INFO(attack.what);
    CommandResult refused = Validate(world, attack.token, attack.audience);
    CHECK_MESSAGE(refused.exit_code != 0, refused.Describe());
    CHECK_FALSE(Contains(refused.out, "Valid JWT-SVID"));
    CHECK_MESSAGE(
        (Contains(refused.err, "INVALID_ARGUMENT") || Contains(refused.err, "UNAUTHENTICATED") ||
         Contains(refused.err, "PERMISSION_DENIED")),
        refused.Describe());
  }
  // The same attacks on the subject of an authorization: never a decision (exit 1, not 0/3/4).
  for (const Attack& attack : attacks_for("spinel-authorize")) {
    INFO(attack.what);
    CommandResult decision =
        world.Agent("authorize --svid " + ShellQuote(attack.token) +
                    " --resource tool:deploy.api --action invoke --context environment=staging");
    CHECK_MESSAGE(decision.exit_code == 1, decision.Describe());
    CHECK(Contains(decision.err, "UNAUTHENTICATED"));
    CHECK_FALSE(Contains(decision.out, "ALLOW"));
  }

  // Authorize with a well-made token for its audience is a decision: the path is live.
  CommandResult allowed =
      world.Agent("authorize --svid " +
                  ShellQuote(Signed(tools.jwt_key, tools.jwt_kid,
                                    Claims(runner, "spinel-authorize", now - 10, now + 300))) +
                  " --resource tool:deploy.api --action invoke --context environment=staging");
  CHECK_MESSAGE(allowed.exit_code == 0, allowed.Describe());
  CHECK(Contains(allowed.out, "ALLOW"));
}
