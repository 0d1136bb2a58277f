// Zone `federates_with` (trust-zones/zone.h, zone_loader.h): foreign trust domains a zone's
// workloads trust; parsed in file order, every mistake named with file, line and value.
#include <doctest/doctest.h>

#include "tests/trust-zones/zone_fixture.h"
#include "trust-zones/zone_loader.h"

using spinel::common::TrustDomain;
using spinel::zones::ZoneSet;
using spinel::zones::testing::LoadFiles;
using spinel::zones::testing::ZoneYaml;

namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TrustDomain Td(const char* name) {
  absl::StatusOr<TrustDomain> td = TrustDomain::Parse(name);
  REQUIRE(td.ok());
  return *td;
}

std::vector<std::string> Names(const std::vector<TrustDomain>& tds) {
  std::vector<std::string> out;
  for (const TrustDomain& td : tds) out.push_back(td.name());
  return out;
}

}  // namespace

TEST_CASE("federates_with lists foreign trust domains in file order, one-sided") {
  absl::StatusOr<ZoneSet> set = LoadFiles(
      {{"a.yaml",
        ZoneYaml("a", "peers: [b]\nfederates_with:\n  - tools.b.test\n  - partner.example.com\n")},
       {"b.yaml", ZoneYaml("b")}});
  REQUIRE_MESSAGE(set.ok(), set.status().ToString());
  CHECK(Names(set->FederatesWith("a")) ==
        std::vector<std::string>{"tools.b.test", "partner.example.com"});
  CHECK(set->FederatesWith("a", Td("partner.example.com")));
  CHECK_FALSE(set->FederatesWith("a", Td("other.example.com")));
  // Federation is not symmetric and not inherited through peering.
  CHECK(set->FederatesWith("b").empty());
  CHECK_FALSE(set->FederatesWith("b", Td("partner.example.com")));
  CHECK(set->FederatesWith("nope").empty());
  CHECK_FALSE(set->FederatesWith("nope", Td("partner.example.com")));
  // The location of each item is kept for later checks (e.g. against the control plane).
  const spinel::zones::Zone* a = set->Find("a");
  REQUIRE(a != nullptr);
  REQUIRE(a->federates_with.size() == 2);
  CHECK(a->federates_with[1].location.ToString().find("a.yaml:9:5") != std::string::npos);
  CHECK(set->ArePeers("a", "b"));
}

TEST_CASE("invalid federates_with is rejected naming file, line and value") {
  struct Case {
    const char* what;
    std::map<std::string, std::string> files;
    std::string expected;
  };
  const Case cases[] = {
      {"not a list",
       {{"a.yaml", ZoneYaml("a", "federates_with: partner.example.com\n")}},
       "a.yaml:6:1: federates_with: expected a list"},
      {"not a trust domain",
       {{"a.yaml", ZoneYaml("a", "federates_with: [ok.example.com, \"Bad Domain\"]\n")}},
       "a.yaml:6:34: federates_with: \"Bad Domain\": "},
      {"a SPIFFE ID instead of a trust domain",
       {{"a.yaml", ZoneYaml("a", "federates_with: [\"spiffe://partner.example.com\"]\n")}},
       "a.yaml:6:18: federates_with: \"spiffe://partner.example.com\": "},
      {"the zone's own trust domain",
       {{"a.yaml", ZoneYaml("a", "federates_with: [a.example.org]\n")}},
       "a.yaml:6:18: federates_with: \"a.example.org\" is the zone's own trust domain"},
      {"listed twice",
       {{"a.yaml", ZoneYaml("a", "federates_with:\n  - p.example.com\n  - p.example.com\n")}},
       "a.yaml:8:5: federates_with: trust domain \"p.example.com\" is listed twice"},
      {"the trust domain of another zone",
       {{"a.yaml", ZoneYaml("a", "federates_with: [p.example.com, b.example.org]\n")},
        {"b.yaml", ZoneYaml("b")}},
       "a.yaml:6:33: federates_with: trust domain \"b.example.org\" is the trust domain of zone "
       "b ("},
      {"a list of maps",
       {{"a.yaml", ZoneYaml("a", "federates_with: [{td: p.example.com}]\n")}},
       "federates_with: expected a list of single values"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    absl::StatusOr<ZoneSet> set = LoadFiles(c.files);
    REQUIRE_FALSE(set.ok());
    CHECK(set.status().code() == absl::StatusCode::kInvalidArgument);
    CAPTURE(Message(set.status()));
    CHECK(Message(set.status()).find(c.expected) != std::string::npos);
  }
  // The other zone's file is named with its line, so the operator sees both places.
  absl::StatusOr<ZoneSet> set = LoadFiles(
      {{"a.yaml", ZoneYaml("a", "federates_with: [b.example.org]\n")}, {"b.yaml", ZoneYaml("b")}});
  REQUIRE_FALSE(set.ok());
  CHECK(Message(set.status()).find("b.yaml:2:15); federation is for foreign trust domains") !=
        std::string::npos);
}
