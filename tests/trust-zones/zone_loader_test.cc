#include "trust-zones/zone_loader.h"

#include <doctest/doctest.h>

#include "tests/trust-zones/zone_fixture.h"

using namespace std::chrono_literals;
using spinel::zones::BuildZoneSet;
using spinel::zones::LoadZoneDir;
using spinel::zones::ZoneSet;
using spinel::zones::testing::LoadFiles;
using spinel::zones::testing::ShippedZonesDir;
using spinel::zones::testing::TempDir;
using spinel::zones::testing::ZoneYaml;

namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

spinel::common::SelectorSet Selectors(std::initializer_list<const char*> texts) {
  spinel::common::SelectorSet out;
  for (const char* t : texts) out.push_back(*spinel::common::Selector::Parse(t));
  return out;
}

}  // namespace

TEST_CASE("the shipped default zones load and have the documented shape") {
  absl::StatusOr<ZoneSet> set = LoadZoneDir(ShippedZonesDir());
  REQUIRE_MESSAGE(set.ok(), Message(set.status()));
  REQUIRE(set->zones().size() == 4);
  const auto* tools = set->Find("tool-execution");
  const auto* training = set->Find("training");
  REQUIRE(tools != nullptr);
  REQUIRE(training != nullptr);
  CHECK(tools->trust_domain.name() == "tools.ai.example.org");
  CHECK(set->FindByTrustDomain("training.ai.example.org") == training);
  // Tool execution has the shortest lifetimes of all zones.
  for (const auto& zone : set->zones()) {
    CAPTURE(zone.name);
    CHECK(tools->x509_svid_ttl.max_ttl <= zone.x509_svid_ttl.max_ttl);
    CHECK(tools->jwt_svid_ttl.max_ttl <= zone.jwt_svid_ttl.max_ttl);
    CHECK(zone.nodes.empty());
    CHECK(set->MayHost(zone.name, {}));
  }
  CHECK(tools->x509_svid_ttl.default_ttl == 5min);
  CHECK(tools->jwt_svid_ttl.max_ttl == 5min);
  CHECK(training->peers.empty());
  CHECK(set->PeersOf("inference") == std::vector<std::string>{"retrieval", "tool-execution"});
  CHECK(set->PeersOf("retrieval") == std::vector<std::string>{"inference"});
  CHECK_FALSE(set->ArePeers("training", "tool-execution"));
  CHECK_FALSE(set->ArePeers("retrieval", "tool-execution"));
}

TEST_CASE("peering is symmetric, lookups work, other files are ignored") {
  TempDir dir;
  dir.Write("a.yaml", ZoneYaml("a", "peers: [b]\n"));
  dir.Write("b.yaml", ZoneYaml("b"));
  dir.Write("c.yaml", ZoneYaml("c", "peers: [b]\nnodes: [\"unix:uid:0\", \"k8s:ns:ml\"]\n"));
  dir.Write("README.md", "not a zone");
  dir.Write(".hidden.yaml", "not: a zone");
  absl::StatusOr<ZoneSet> set = LoadZoneDir(dir.path());
  REQUIRE_MESSAGE(set.ok(), Message(set.status()));
  CHECK(set->PeersOf("b") == std::vector<std::string>{"a", "c"});
  CHECK(set->ArePeers("b", "a"));
  CHECK_FALSE(set->ArePeers("a", "c"));  // not transitive
  CHECK(set->PeersOf("nope").empty());
  CHECK(set->Find("a")->x509_svid_ttl.default_ttl == 1h);
  CHECK(set->Find("a")->x509_svid_ttl.max_ttl == 2h);
  CHECK(set->Find("a")->jwt_svid_ttl.default_ttl == 5min);  // bare duration: default = max
  CHECK(set->Find("a")->jwt_svid_ttl.max_ttl == 5min);
  auto id = spinel::common::SpiffeId::Parse("spiffe://c.example.org/w");
  CHECK(set->ZoneOf(*id) == set->Find("c"));
  CHECK(set->Find("a")->location.line == 1);
  // Node placement: all of the zone's selectors, in any order, extra ones allowed.
  CHECK(set->MayHost("a", {}));
  CHECK(set->MayHost("c", Selectors({"unix:uid:0", "k8s:ns:ml", "x:y"})));
  CHECK(set->MayHost("c", Selectors({"k8s:ns:ml", "unix:uid:0"})));
  CHECK_FALSE(set->MayHost("c", Selectors({"unix:uid:0"})));
  CHECK_FALSE(set->MayHost("nope", {}));
}

TEST_CASE("invalid zone files are rejected naming file, line and problem") {
  struct Case {
    const char* what;
    std::map<std::string, std::string> files;
    std::string expected;  // substring; file names are relative to the temp dir
  };
  const std::string rule = "resources:\n  - resource: \"tool:x\"\n    actions: [invoke]\n";
  const Case cases[] = {
      {"unknown key",
       {{"a.yaml", ZoneYaml("a", "colour: blue\n")}},
       "a.yaml:6:1: colour: unknown key"},
      {"bad duration",
       {{"a.yaml", "name: a\ntrust_domain: a.org\nx509_svid_ttl: 1h\njwt_svid_ttl: 4 hours\n"}},
       "a.yaml:4:1: jwt_svid_ttl: invalid duration"},
      {"bad duration in a map",
       {{"a.yaml", "name: a\ntrust_domain: a.org\nx509_svid_ttl: {default: 1x, max: 1h}\n"}},
       "a.yaml:3:17: x509_svid_ttl.default: invalid duration"},
      {"default above max",
       {{"a.yaml", "name: a\ntrust_domain: a.org\nx509_svid_ttl: {default: 2h, max: 1h}\n"}},
       "a.yaml:3:17: x509_svid_ttl.default: default 2h is longer than max 1h"},
      {"ttl map with an unknown key",
       {{"a.yaml", "name: a\ntrust_domain: a.org\nx509_svid_ttl: {default: 1h, maximum: 2h}\n"}},
       "a.yaml:3:30: x509_svid_ttl.maximum: unknown key"},
      {"ttl map without max",
       {{"a.yaml", "name: a\ntrust_domain: a.org\nx509_svid_ttl: {default: 1h}\n"}},
       "x509_svid_ttl.max: missing required key"},
      {"missing jwt ttl",
       {{"a.yaml", "name: a\ntrust_domain: a.org\nx509_svid_ttl: 1h\nca_ttl: 24h\n"}},
       "jwt_svid_ttl: missing required key"},
      {"missing ca_ttl",
       {{"a.yaml", "name: a\ntrust_domain: a.org\nx509_svid_ttl: 1h\njwt_svid_ttl: 5m\n"}},
       "a.yaml:1:1: ca_ttl: missing required key"},
      {"ca_ttl shorter than twice the max SVID ttl",
       {{"a.yaml", ZoneYaml("a").replace(ZoneYaml("a").find("24h"), 3, "3h")}},
       "a.yaml:5:1: ca_ttl: CA lifetime 3h must be at least twice the longest SVID max TTL (2h)"},
      {"peer that does not exist",
       {{"a.yaml", ZoneYaml("a", "peers:\n  - b\n  - nope\n")}, {"b.yaml", ZoneYaml("b")}},
       "a.yaml:8:5: peers: unknown zone \"nope\""},
      {"peering with itself",
       {{"a.yaml", ZoneYaml("a", "peers: [a]\n")}},
       "a.yaml:6:9: peers: a zone cannot peer with itself"},
      {"peer listed twice",
       {{"a.yaml", ZoneYaml("a", "peers: [b, b]\n")}, {"b.yaml", ZoneYaml("b")}},
       "a.yaml:6:12: peers: peer \"b\" is listed twice"},
      {"trust domain used twice",
       {{"a.yaml", ZoneYaml("a")}, {"b.yaml", ZoneYaml("b", "", "a.example.org")}},
       "b.yaml:2:15: trust_domain: trust domain \"a.example.org\" is already declared in "},
      {"file name does not match the zone name",
       {{"a.yaml", ZoneYaml("b")}},
       "a.yaml:1:1: name: zone \"b\" must be in a file named b.yaml"},
      {"invalid zone name", {{"A.yaml", ZoneYaml("A")}}, "A.yaml:1:1: name: zone name \"A\""},
      {"missing name", {{"a.yaml", "trust_domain: a.org\n"}}, "a.yaml:1:1: name: missing required"},
      {"trust domain is a SPIFFE ID",
       {{"a.yaml", "name: a\ntrust_domain: spiffe://a.org\n"}},
       "a.yaml:2:1: trust_domain: expected a bare trust domain name"},
      {"invalid trust domain",
       {{"a.yaml", "name: a\ntrust_domain: A.org\n"}},
       "a.yaml:2:1: trust_domain: "},
      {"bad node selector",
       {{"a.yaml", ZoneYaml("a", "nodes:\n  - unix:uid:0\n  - nocolon\n")}},
       "a.yaml:8:5: nodes: invalid selector \"nocolon\""},
      {"rule with an unknown kind",
       {{"a.yaml", ZoneYaml("a", "resources:\n  - resource: \"model:x\"\n    actions: [read]\n")}},
       "a.yaml:7:5: resources[0].resource: expected <kind>:<pattern>"},
      {"rule with an unknown action",
       {{"a.yaml", ZoneYaml("a", rule + "  - resource: \"dataset:d/*\"\n    actions: [read, "
                                        "fly]\n")}},
       "a.yaml:10:21: resources[1].actions: unknown action \"fly\" for dataset (expected read, "
       "write, list, delete)"},
      {"action of another kind",
       {{"a.yaml",
         ZoneYaml("a", "resources:\n  - resource: \"secret:s\"\n    actions: [write]\n")}},
       "a.yaml:8:15: resources[0].actions: unknown action \"write\" for secret (expected read)"},
      {"rule without actions",
       {{"a.yaml", ZoneYaml("a", "resources:\n  - resource: \"tool:x\"\n")}},
       "resources[0].actions: must list at least one action"},
      {"rule with an unknown key",
       {{"a.yaml", ZoneYaml("a", rule + "    colour: red\n")}},
       "a.yaml:9:5: resources[0].colour: unknown key"},
      {"rule with a bad pattern",
       {{"a.yaml",
         ZoneYaml("a", "resources:\n  - resource: \"tool:a***\"\n    actions: [invoke]\n")}},
       "resources[0].resource: invalid pattern \"a***\""},
      {"rule with a bad effect",
       {{"a.yaml", ZoneYaml("a", rule + "    effect: maybe\n")}},
       "a.yaml:9:5: resources[0].effect: expected allow or deny, got \"maybe\""},
      {"deny rule needing approval",
       {{"a.yaml", ZoneYaml("a", rule + "    effect: deny\n    approval: required\n")}},
       "a.yaml:10:5: resources[0].approval: only allow rules can require approval"},
      {"bad approval value",
       {{"a.yaml", ZoneYaml("a", rule + "    approval: maybe\n")}},
       "resources[0].approval: expected required or none"},
      {"condition with an empty list",
       {{"a.yaml", ZoneYaml("a", rule + "    when: {env: []}\n")}},
       "a.yaml:9:17: resources[0].when.env: expected a value or a non-empty list"},
      {"conditions that are not a map",
       {{"a.yaml", ZoneYaml("a", rule + "    when: [a]\n")}},
       "a.yaml:9:11: resources[0].when: expected a mapping"},
      {"rule name used twice",
       {{"a.yaml", ZoneYaml("a",
                            "resources:\n  - name: r\n    resource: \"tool:x\"\n    "
                            "actions: [invoke]\n  - name: r\n    resource: \"tool:y\"\n    "
                            "actions: [invoke]\n")}},
       "a.yaml:10:5: resources[1].name: rule name \"r\" is used twice"},
      {"YAML syntax error",
       {{"a.yaml", ZoneYaml("a", "peers: [b\n")}},
       "a.yaml:7:1: YAML syntax error"},
      {"one bad file fails the whole load",
       {{"a.yaml", ZoneYaml("a")}, {"b.yaml", ZoneYaml("b", "bogus: 1\n")}},
       "b.yaml:6:1: bogus: unknown key"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    absl::StatusOr<ZoneSet> set = LoadFiles(c.files);
    REQUIRE_FALSE(set.ok());
    CHECK(set.status().code() == absl::StatusCode::kInvalidArgument);
    CAPTURE(Message(set.status()));
    CHECK(Message(set.status()).find(c.expected) != std::string::npos);
  }
}

TEST_CASE("a duplicated trust domain names both files") {
  absl::StatusOr<ZoneSet> set =
      LoadFiles({{"a.yaml", ZoneYaml("a")}, {"b.yaml", ZoneYaml("b", "", "a.example.org")}});
  REQUIRE_FALSE(set.ok());
  CHECK(Message(set.status()).find("/a.yaml:2:15") != std::string::npos);
}

TEST_CASE("a duplicated zone name names both files") {
  absl::StatusOr<ZoneSet> set =
      BuildZoneSet({{"x/a.yaml", ZoneYaml("a")}, {"y/a.yaml", ZoneYaml("a")}});
  REQUIRE_FALSE(set.ok());
  CHECK(Message(set.status()) ==
        "y/a.yaml:1:7: name: zone name \"a\" is already declared in x/a.yaml:1:7");
}

TEST_CASE("directories without zone files are errors") {
  TempDir empty;
  empty.Write("notes.txt", "x");
  absl::StatusOr<ZoneSet> set = LoadZoneDir(empty.path());
  REQUIRE_FALSE(set.ok());
  CHECK(Message(set.status()).find("no zone files") != std::string::npos);
  set = LoadZoneDir(empty.path() + "/missing");
  REQUIRE_FALSE(set.ok());
  CHECK(set.status().code() == absl::StatusCode::kNotFound);
}

TEST_CASE("wit_svid_ttl: optional, defaulted within the CA lifetime, checked like the others") {
  auto one = [](const std::string& text) -> absl::StatusOr<spinel::zones::Zone> {
    absl::StatusOr<ZoneSet> set = LoadFiles({{"a.yaml", text}});
    if (!set.ok()) return set.status();
    return *set->Find("a");
  };
  auto absent = one(ZoneYaml("a"));
  REQUIRE_MESSAGE(absent.ok(), Message(absent.status()));
  CHECK(absent->wit_svid_ttl.default_ttl == 30min);
  CHECK(absent->wit_svid_ttl.max_ttl == 1h);

  auto set = one(ZoneYaml("a", "wit_svid_ttl: {default: 10m, max: 20m}\n"));
  REQUIRE_MESSAGE(set.ok(), Message(set.status()));
  CHECK(set->wit_svid_ttl.default_ttl == 10min);
  CHECK(set->wit_svid_ttl.max_ttl == 20min);

  // A short CA: the default is cut to half its lifetime.
  auto short_ca =
      one("name: a\ntrust_domain: a.org\nx509_svid_ttl: 10m\njwt_svid_ttl: 5m\nca_ttl: 40m\n");
  REQUIRE_MESSAGE(short_ca.ok(), Message(short_ca.status()));
  CHECK(short_ca->wit_svid_ttl.max_ttl == 20min);
  CHECK(short_ca->wit_svid_ttl.default_ttl == 20min);

  auto too_long = one(ZoneYaml("a", "wit_svid_ttl: 13h\n"));
  REQUIRE_FALSE(too_long.ok());
  CHECK(Message(too_long.status()).find("ca_ttl") != std::string::npos);
  auto inverted = one(ZoneYaml("a", "wit_svid_ttl: {default: 2h, max: 1h}\n"));
  REQUIRE_FALSE(inverted.ok());
  CHECK(Message(inverted.status()).find("wit_svid_ttl.default") != std::string::npos);

  absl::StatusOr<ZoneSet> shipped = LoadZoneDir(ShippedZonesDir());
  REQUIRE(shipped.ok());
  CHECK(shipped->Find("training")->wit_svid_ttl.max_ttl == 1h);
  CHECK(shipped->Find("tool-execution")->wit_svid_ttl.max_ttl == 1h);  // ca_ttl 2h
}
