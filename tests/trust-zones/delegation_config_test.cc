#include "trust-zones/delegation_config.h"

#include <doctest/doctest.h>

#include "common/jwk.h"
#include "tests/trust-zones/zone_fixture.h"
#include "trust-zones/zone_loader.h"

using namespace std::chrono_literals;
using spinel::zones::CheckTrustedIssuerKeys;
using spinel::zones::ParseZone;
using spinel::zones::ZoneSet;
using spinel::zones::testing::LoadFiles;
using spinel::zones::testing::TempDir;
using spinel::zones::testing::ZoneYaml;

namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// From line 6 on.
const char kDelegation[] = R"(trusted_issuers:
  - issuer: https://idp.example.org
    jwks_file: keys/idp.json
    audiences: [spinel-agents, model-ui]
    claims: [email, groups]
  - issuer: https://login.partner.example
    jwks_file: /etc/spinel/partner.json
    audiences: [spinel]
delegation:
  max_chain: 3
  token_ttl: {default: 5m, max: 15m}
)";

std::string IdpJwks() {
  auto key = std::move(*spinel::common::PrivateKey::Generate());
  nlohmann::json jwk = *spinel::common::PublicKeyToJwk(*key.Public());
  jwk["kid"] = "idp-1";
  return nlohmann::json{{"keys", nlohmann::json::array({jwk})}}.dump();
}

}  // namespace

TEST_CASE("zone file: trusted_issuers and delegation are parsed") {
  auto zone = ParseZone({"/etc/zones/a.yaml", ZoneYaml("a", kDelegation)});
  REQUIRE_MESSAGE(zone.ok(), Message(zone.status()));
  REQUIRE(zone->trusted_issuers.size() == 2);
  const auto& idp = zone->trusted_issuers[0];
  CHECK(idp.issuer.issuer == "https://idp.example.org");
  CHECK(idp.jwks_file == "/etc/zones/keys/idp.json");  // relative to the zone file
  CHECK(idp.issuer.audiences == std::vector<std::string>{"spinel-agents", "model-ui"});
  CHECK(idp.issuer.claims == std::vector<std::string>{"email", "groups"});
  CHECK(idp.location.line == 7);
  CHECK(idp.jwks_file_location.line == 8);
  CHECK(zone->trusted_issuers[1].jwks_file == "/etc/spinel/partner.json");  // absolute kept
  CHECK(zone->trusted_issuers[1].issuer.claims.empty());
  CHECK(zone->delegation.enabled);
  CHECK(zone->delegation.max_chain == 3);
  CHECK(zone->delegation.token_ttl.default_ttl == 5min);
  CHECK(zone->delegation.token_ttl.max_ttl == 15min);
  auto limits = zone->delegation.Limits();
  CHECK(limits.max_chain == 3);
  CHECK(limits.max_ttl == 15min);
  // Without the keys, delegation is off.
  auto plain = ParseZone({"a.yaml", ZoneYaml("a")});
  REQUIRE(plain.ok());
  CHECK_FALSE(plain->delegation.enabled);
  CHECK(plain->trusted_issuers.empty());
  // A delegation section alone (deepening chains, no user issuer of its own) is fine.
  CHECK(ParseZone({"a.yaml", ZoneYaml("a", "delegation: {max_chain: 2, token_ttl: 2m}\n")}).ok());
}

TEST_CASE("zone file: bad trusted_issuers and delegation name the key and line") {
  const std::string issuer = "trusted_issuers:\n  - issuer: https://idp.example.org\n";
  const std::string delegation = "delegation: {max_chain: 3, token_ttl: 5m}\n";
  const std::pair<std::string, std::string> cases[] = {
      {issuer + "    jwks_file: k.json\n    audiences: [a]\n",
       "a.yaml:6:1: trusted_issuers: needs a `delegation` section"},
      {"trusted_issuers:\n  - issuer: http://idp.example.org\n    jwks_file: k\n    audiences: "
       "[a]\n" +
           delegation,
       "a.yaml:7:5: trusted_issuers[0].issuer: must be an https:// URL"},
      {"trusted_issuers:\n  - issuer: https://idp.example.org?x=1\n    jwks_file: k\n    "
       "audiences: [a]\n" +
           delegation,
       "a.yaml:7:5: trusted_issuers[0].issuer: must have no query"},
      {"trusted_issuers:\n  - jwks_file: k\n    audiences: [a]\n" + delegation,
       "a.yaml:7:5: trusted_issuers[0].issuer: missing required key"},
      {issuer + "    audiences: [a]\n" + delegation,
       "a.yaml:7:5: trusted_issuers[0].jwks_file: missing required key"},
      {issuer + "    jwks_file: \"\"\n    audiences: [a]\n" + delegation,
       "a.yaml:8:5: trusted_issuers[0].jwks_file: must not be empty"},
      {issuer + "    jwks_file: k\n" + delegation,
       "a.yaml:7:5: trusted_issuers[0].audiences: must list at least one value"},
      {issuer + "    jwks_file: k\n    audiences: [a, a]\n" + delegation,
       "a.yaml:9:20: trusted_issuers[0].audiences: \"a\" is listed twice"},
      {issuer + "    jwks_file: k\n    audiences: [a]\n    claims: [email, sub]\n" + delegation,
       "a.yaml:10:21: trusted_issuers[0].claims: \"sub\" is a registered token claim"},
      {issuer + "    jwks_file: k\n    audiences: [a]\n    claims: [\"bad claim\"]\n" + delegation,
       "a.yaml:10:14: trusted_issuers[0].claims: claim name \"bad claim\" is not valid"},
      {issuer + "    jwks_file: k\n    audiences: [a]\n    scopes: [x]\n" + delegation,
       "a.yaml:10:5: trusted_issuers[0].scopes: unknown key"},
      {issuer + "    jwks_file: k\n    audiences: [a]\n  - issuer: https://idp.example.org\n" +
           "    jwks_file: k\n    audiences: [a]\n" + delegation,
       "a.yaml:10:5: trusted_issuers[1].issuer: issuer \"https://idp.example.org\" is listed "
       "twice"},
      {"delegation: {token_ttl: 5m}\n", "a.yaml:6:13: delegation.max_chain: missing required key"},
      {"delegation: {max_chain: 0, token_ttl: 5m}\n",
       "a.yaml:6:14: delegation.max_chain: must be between 1 and 16, got 0"},
      {"delegation: {max_chain: 17, token_ttl: 5m}\n",
       "a.yaml:6:14: delegation.max_chain: must be between 1 and 16"},
      {"delegation: {max_chain: 2}\n", "delegation.token_ttl: missing required key"},
      {"delegation:\n  max_chain: 2\n  token_ttl: {default: 10m, max: 5m}\n",
       "a.yaml:8:15: delegation.token_ttl.default: default 10m is longer than max 5m"},
      {"delegation:\n  max_chain: 2\n  token_ttl: 2h\n",
       "a.yaml:8:3: delegation.token_ttl: max 2h is longer than 1h"},
      {"delegation:\n  max_chain: 2\n  token_ttl: 5m\n  depth: 3\n",
       "a.yaml:9:3: delegation.depth: unknown key"},
      {"delegation: 3\n", "a.yaml:6:13: delegation: expected a mapping"},
  };
  for (const auto& test_case : cases) {
    const std::string& extra = test_case.first;
    const std::string& expected = test_case.second;
    CAPTURE(extra);
    auto zone = ParseZone({"a.yaml", ZoneYaml("a", extra)});
    REQUIRE_FALSE(zone.ok());
    CHECK(zone.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK_MESSAGE(Message(zone.status()).find(expected) != std::string::npos,
                  Message(zone.status()));
  }
}

TEST_CASE("zone file: CheckTrustedIssuerKeys loads each JWKS file, naming the zone file line") {
  TempDir dir;
  std::filesystem::create_directories(dir.File("keys"));
  const std::string zone_file = dir.Write("a.yaml", ZoneYaml("a", kDelegation));
  auto zone = ParseZone({zone_file, ZoneYaml("a", kDelegation)});
  REQUIRE(zone.ok());
  // keys/idp.json is missing: the error points at the jwks_file line of the zone file.
  absl::Status missing = CheckTrustedIssuerKeys(*zone);
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK_MESSAGE(
      Message(missing).find("a.yaml:8:16: trusted_issuers[0].jwks_file:") != std::string::npos,
      Message(missing));
  dir.Write("keys/idp.json", "{\"keys\": []}");
  absl::Status empty = CheckTrustedIssuerKeys(*zone);
  CHECK(Message(empty).find("no usable signing key") != std::string::npos);
  dir.Write("keys/idp.json", IdpJwks());
  zone->trusted_issuers.pop_back();  // the absolute /etc path of the second issuer
  CHECK(CheckTrustedIssuerKeys(*zone).ok());
}

TEST_CASE("zone file: delegation zones load as a set") {
  auto set = LoadFiles({{"a.yaml", ZoneYaml("a", kDelegation)}, {"b.yaml", ZoneYaml("b")}});
  REQUIRE_MESSAGE(set.ok(), Message(set.status()));
  CHECK(set->Find("a")->delegation.enabled);
  CHECK_FALSE(set->Find("b")->delegation.enabled);
}
