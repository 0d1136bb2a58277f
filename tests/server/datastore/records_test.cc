// Tests for record validation and storage encoding (records.h).
#include "server/datastore/records.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "tests/server/datastore/datastore_test_util.h"

namespace spinel::server::testing {
namespace {

TEST_CASE("NewEntryId: random version-4 UUIDs") {
  std::set<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto id = NewEntryId();
    REQUIRE(id.ok());
    CHECK(id->size() == 36);
    CHECK((*id)[14] == '4');
    ids.insert(*id);
  }
  CHECK(ids.size() == 100);
}

TEST_CASE("Sha256Hex: the FIPS 180-2 test vector") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(JoinTokenHash("abc") == Sha256Hex("abc"));
}

TEST_CASE("NormalizeEntry: hints must be clean UTF-8") {
  RegistrationEntry e =
      MakeEntry("spiffe://inference.example.org/w", "spiffe://control.example.org/a", {"u:1"});
  for (const char* good :
       {"", "plain", "caf\xc3\xa9", "\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80"}) {
    CAPTURE(good);
    e.hint = good;
    CHECK(NormalizeEntry(e).ok());
  }
  for (const char* bad :
       {"\xc0\xaf", "\xed\xa0\x80", "\xe6\x97", "\xf4\x90\x80\x80", "tab\t", "\x80", "\xff"}) {
    CAPTURE(bad);
    e.hint = bad;
    CHECK(NormalizeEntry(e).status().code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("NormalizeEntry: one rule set, the X.509 DNS rule, the zone filled in once") {
  RegistrationEntry e =
      MakeEntry("spiffe://inference.example.org/w", "spiffe://control.example.org/a", {"u:1"});
  for (const char* good : {"model", "model.example.org", "*.example.org", "a_b.example"}) {
    CAPTURE(good);
    e.dns_names = {good};
    CHECK(NormalizeEntry(e).ok());
  }
  // Names the SVID builder would refuse are refused when stored, not when signing.
  for (const char* bad : {"-model.example.org", "a..b", "model.example.org.", "a b", ""}) {
    CAPTURE(bad);
    e.dns_names = {bad};
    auto r = NormalizeEntry(e);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Contains(r.status().message(), "DNS name"));
  }
  e.dns_names.clear();
  auto normalized = NormalizeEntry(e);
  REQUIRE(normalized.ok());
  CHECK(normalized->zone == "inference.example.org");
  e.jwt_svid_ttl = -1;
  CHECK(Contains(NormalizeEntry(e).status().message(), "JWT SVID TTL must not be negative"));
}

TEST_CASE("selector and string arrays round-trip; malformed stored JSON is DataLoss") {
  const common::SelectorSet selectors = Selectors({"unix:uid:1000", "k8s:pod-uid:a:b"});
  auto decoded = DecodeSelectors(EncodeSelectors(selectors), "entry \"x\"");
  REQUIRE(decoded.ok());
  CHECK(*decoded == selectors);
  const std::vector<std::string> names = {"a.example", "b"};
  CHECK(*DecodeStrings(EncodeStrings(names), "entry \"x\"") == names);
  CHECK(DecodeStrings("[]", "x")->empty());
  for (const char* bad : {"", "{}", "[1]", "[\"nocolon\"]", "[\"a\""}) {
    CAPTURE(bad);
    auto r = DecodeSelectors(bad, "entry \"x\"");
    CHECK(r.status().code() == absl::StatusCode::kDataLoss);
    CHECK(Contains(r.status().message(), "entry \"x\""));
  }
}

TEST_CASE("ValidateAuditEvent: kind required; clean text; details may span lines") {
  AuditEvent e = Audit("authorize", "ALLOW", "inference");
  e.details = "{\n  \"selectors\": [\"unix:uid:1000\"]\n}";
  CHECK(ValidateAuditEvent(e).ok());
  AuditEvent no_kind = e;
  no_kind.kind.clear();
  CHECK(Contains(ValidateAuditEvent(no_kind).message(), "kind is required"));
  AuditEvent multiline_reason = e;
  multiline_reason.reason = "a\nb";
  CHECK(Contains(ValidateAuditEvent(multiline_reason).message(), "reason"));
  AuditEvent bad_details = e;
  bad_details.details = "\xff";
  CHECK(Contains(ValidateAuditEvent(bad_details).message(), "details"));
  AuditEvent long_actor = e;
  long_actor.actor = std::string(kMaxAuditFieldLength + 1, 'a');
  CHECK(Contains(ValidateAuditEvent(long_actor).message(), "actor"));
}

}  // namespace
}  // namespace spinel::server::testing
