// Table-driven tests for every case listed in shared/spec/spiffeid_cases.md.
#include "common/spiffe_id.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using spinel::common::CheckPathSegment;
using spinel::common::CheckSpiffeId;
using spinel::common::IdError;
using spinel::common::IdErrorMessage;
using spinel::common::SpiffeId;
using spinel::common::TrustDomain;

namespace {

struct Accepted {
  std::string input, trust_domain, path;
};

struct Rejected {
  std::string input;
  IdError error;
};

std::string S(const char* p, size_t n) { return std::string(p, n); }

}  // namespace

TEST_CASE("SpiffeId::Parse accepts the A-cases and round-trips them unchanged") {
  const std::vector<Accepted> cases = {
      {"spiffe://trustdomain", "trustdomain", ""},
      {"spiffe://trustdomain/path", "trustdomain", "/path"},
      {"spiffe://trustdomain/.path", "trustdomain", "/.path"},
      {"spiffe://trustdomain/..path", "trustdomain", "/..path"},
      {"spiffe://trustdomain/...", "trustdomain", "/..."},
      {"spiffe://staging.example.com/payments/mysql", "staging.example.com", "/payments/mysql"},
      {"spiffe://k8s-west.example.com/ns/staging/sa/default", "k8s-west.example.com",
       "/ns/staging/sa/default"},
      {"spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453", "example.com",
       "/9eebccd2-12bf-40a6-b262-65fe0487d453"},
      {"spiffe://trustdomain/PATH/MiXeD", "trustdomain", "/PATH/MiXeD"},
      {"spiffe://trust_domain-1.example.org/a_b-c.d/0", "trust_domain-1.example.org", "/a_b-c.d/0"},
      {"spiffe://192.168.1.10/workload", "192.168.1.10", "/workload"},
      {"spiffe://trustdomain-/path", "trustdomain-", "/path"},
      {"spiffe://trustdomain./path", "trustdomain.", "/path"},
      {"spiffe://trustdomain_/path", "trustdomain_", "/path"},
      {"spiffe://trustdomain/pathZ", "trustdomain", "/pathZ"},
      {"spiffe://trustdomain/path-", "trustdomain", "/path-"},
      {"spiffe://trustdomain/path.", "trustdomain", "/path."},
      {"spiffe://trustdomain/path_", "trustdomain", "/path_"},
      {"spiffe://trustdomain/path9", "trustdomain", "/path9"},
      {"spiffe://a/b", "a", "/b"},
      {"spiffe://./x", ".", "/x"},
      {"spiffe://-/x", "-", "/x"},
      {"spiffe://_", "_", ""},
      {"spiffe://td/a.b/c..d/e...", "td", "/a.b/c..d/e..."},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto id = SpiffeId::Parse(c.input);
    REQUIRE(id.ok());
    CHECK(id->trust_domain().name() == c.trust_domain);
    CHECK(id->path() == c.path);
    CHECK(id->ToString() == c.input);
    CHECK(id->MemberOf(*TrustDomain::Parse(c.trust_domain)));
  }
}

TEST_CASE("SpiffeId::Parse rejects the R-cases with the rule that was broken") {
  const std::vector<Rejected> cases = {
      {"", IdError::kEmpty},
      {"s", IdError::kWrongScheme},
      {"spiffe:/", IdError::kWrongScheme},
      {"Spiffe://", IdError::kWrongScheme},
      {"SPIFFE://trustdomain/path", IdError::kWrongScheme},
      {"spiffe:/trustdomain/path", IdError::kWrongScheme},
      {"http://trustdomain/path", IdError::kWrongScheme},
      {"spiffe:trustdomain/path", IdError::kWrongScheme},
      {" spiffe://trustdomain/path", IdError::kWrongScheme},
      {"BAD", IdError::kWrongScheme},
      {"spiffe://", IdError::kMissingTrustDomain},
      {"spiffe:///", IdError::kMissingTrustDomain},
      {"spiffe:///path", IdError::kMissingTrustDomain},
      {"spiffe://trustdomain/", IdError::kTrailingSlash},
      {"spiffe://trustdomain/path/", IdError::kTrailingSlash},
      {"spiffe://trustdomain//", IdError::kEmptySegment},
      {"spiffe://trustdomain//path", IdError::kEmptySegment},
      {"spiffe://trustdomain/a//b", IdError::kEmptySegment},
      {"spiffe://trustdomain/.", IdError::kDotSegment},
      {"spiffe://trustdomain/./path", IdError::kDotSegment},
      {"spiffe://trustdomain/path/./other", IdError::kDotSegment},
      {"spiffe://trustdomain/path/..", IdError::kDotSegment},
      {"spiffe://trustdomain/..", IdError::kDotSegment},
      {"spiffe://trustdomain/../path", IdError::kDotSegment},
      {"spiffe://trustdomain/path/../other", IdError::kDotSegment},
      {"spiffe://%F0%9F%A4%AF/path", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain/%F0%9F%A4%AF", IdError::kBadPathSegmentChar},
      {"spiffe://%62%61%64/path", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain/%62%61%64", IdError::kBadPathSegmentChar},
      {"spiffe://trustdomain/%2e%2e", IdError::kBadPathSegmentChar},
      {"spiffe://Trustdomain/path", IdError::kBadTrustDomainChar},
      {"spiffe://TRUSTDOMAIN", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain:8080/path", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain:/path", IdError::kBadTrustDomainChar},
      {"spiffe://user@trustdomain/path", IdError::kBadTrustDomainChar},
      {"spiffe://user:pass@trustdomain/path", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain/path?query=1", IdError::kBadPathSegmentChar},
      {"spiffe://trustdomain?x=1", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain/path#frag", IdError::kBadPathSegmentChar},
      {"spiffe://trustdomain#frag", IdError::kBadTrustDomainChar},
      {"spiffe://[::1]/path", IdError::kBadTrustDomainChar},
      {"spiffe://trust$domain", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain/path$", IdError::kBadPathSegmentChar},
      {"spiffe://trust domain/path", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain/pa th", IdError::kBadPathSegmentChar},
      {"spiffe://trustdomain/path ", IdError::kBadPathSegmentChar},
      {"spiffe://trustdomain/path~", IdError::kBadPathSegmentChar},
      {"spiffe://trust~domain/path", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain/caf\xC3\xA9", IdError::kBadPathSegmentChar},
      {"spiffe://trustdomain\\path", IdError::kBadTrustDomainChar},
      {"spiffe://trustdomain/path\n", IdError::kBadPathSegmentChar},
      {S("spiffe://trustdomain/pa\0th", 25), IdError::kBadPathSegmentChar},
      {"spiffe://trustdomain/../$", IdError::kDotSegment},
      {"spiffe://trustdomain/$/..", IdError::kBadPathSegmentChar},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto err = CheckSpiffeId(c.input);
    REQUIRE(err.has_value());
    CHECK(*err == c.error);
    auto id = SpiffeId::Parse(c.input);
    REQUIRE_FALSE(id.ok());
    CHECK(id.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(id.status().message()).find(IdErrorMessage(c.error)) != std::string::npos);
  }
}

TEST_CASE("every byte is swept through the trust-domain and path character rules") {
  auto td_ok = [](unsigned char b) {
    return (b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '.' || b == '-' || b == '_';
  };
  auto path_ok = [&](unsigned char b) { return td_ok(b) || (b >= 'A' && b <= 'Z'); };
  for (int i = 0; i < 256; ++i) {
    const unsigned char b = static_cast<unsigned char>(i);
    CAPTURE(i);
    std::vector<std::string> encodings = {std::string(1, static_cast<char>(b))};
    if (b >= 0x80) {  // the same code point as UTF-8, as go-spiffe's sweep builds it
      encodings.push_back(
          {static_cast<char>(0xC0 | (b >> 6)), static_cast<char>(0x80 | (b & 0x3F))});
    }
    for (const std::string& enc : encodings) {
      if (b != '/') {
        auto td_err = CheckSpiffeId("spiffe://trustdomain" + enc + "/path");
        CHECK(td_err.has_value() == !td_ok(b));
        if (td_err) CHECK(*td_err == IdError::kBadTrustDomainChar);
        auto path_err = CheckSpiffeId("spiffe://trustdomain/path" + enc);
        CHECK(path_err.has_value() == !path_ok(b));
        if (path_err) CHECK(*path_err == IdError::kBadPathSegmentChar);
      }
      auto td = TrustDomain::Parse("trustdomain" + enc);
      CHECK(td.ok() == td_ok(b));
    }
  }
}

TEST_CASE("length limits: 2048-byte IDs and 255-byte trust domains are accepted, longer rejected") {
  const std::string l1 = "spiffe://example.org/" + std::string(2027, 'a');
  REQUIRE(l1.size() == 2048);
  CHECK(SpiffeId::Parse(l1).ok());
  CHECK(SpiffeId::Parse("spiffe://" + std::string(255, 'a') + "/p").ok());
  std::string many = "spiffe://example.org";
  for (int i = 0; i < 1000; ++i) many += "/a";
  CHECK(SpiffeId::Parse(many).ok());
  CHECK(CheckSpiffeId(l1 + "a") == IdError::kTooLong);
  CHECK(CheckSpiffeId("spiffe://" + std::string(256, 'a') + "/p") == IdError::kTooLong);
}

TEST_CASE("TrustDomain::Parse follows the T-cases") {
  struct Case {
    std::string input;
    std::optional<std::string> name;
  };
  const std::vector<Case> cases = {
      {"", std::nullopt},
      {"trustdomain", "trustdomain"},
      {"spiffe://trustdomain", "trustdomain"},
      {"spiffe://trustdomain/path", "trustdomain"},
      {"spiffe:/trustdomain/path", std::nullopt},
      {"spiffe://", std::nullopt},
      {"spiffe:///path", std::nullopt},
      {"spiffe://trustdomain/", std::nullopt},
      {"spiffe://trustdomain/path/", std::nullopt},
      {"spiffe://%F0%9F%A4%AF/path", std::nullopt},
      {"spiffe://trustdomain/%F0%9F%A4%AF", std::nullopt},
      {"BAD", std::nullopt},
      {"example.org:8080", std::nullopt},
      {"trustdomain/", std::nullopt},
      {"http://example.org", std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    auto td = TrustDomain::Parse(c.input);
    CHECK(td.ok() == c.name.has_value());
    if (td.ok()) CHECK(td->name() == *c.name);
  }
  CHECK(std::string(TrustDomain::Parse("").status().message()).find("trust domain is missing") !=
        std::string::npos);
  CHECK(std::string(TrustDomain::Parse("spiffe:/trustdomain/path").status().message())
            .find("scheme is missing or invalid") != std::string::npos);
  CHECK(TrustDomain::Parse("trustdomain")->IdString() == "spiffe://trustdomain");
  CHECK(*TrustDomain::Parse("a") < *TrustDomain::Parse("b"));
}

TEST_CASE("builder APIs follow the B-cases") {
  const TrustDomain td = *TrustDomain::Parse("trustdomain");
  CHECK(SpiffeId::FromSegments(td, {})->ToString() == "spiffe://trustdomain");
  CHECK(SpiffeId::FromSegments(td, {"foo"})->path() == "/foo");
  CHECK(SpiffeId::FromSegments(td, {"foo", "bar"})->path() == "/foo/bar");
  CHECK(CheckPathSegment("") == IdError::kEmptySegment);
  CHECK(CheckPathSegment("/") == IdError::kBadPathSegmentChar);
  CHECK(CheckPathSegment("/foo") == IdError::kBadPathSegmentChar);
  CHECK(CheckPathSegment("$") == IdError::kBadPathSegmentChar);
  CHECK(CheckPathSegment(".") == IdError::kDotSegment);
  CHECK(CheckPathSegment("..") == IdError::kDotSegment);
  CHECK_FALSE(SpiffeId::FromSegments(td, {""}).ok());
  CHECK_FALSE(SpiffeId::FromSegments(td, {"/"}).ok());
  CHECK_FALSE(SpiffeId::FromSegments(td, {"/foo"}).ok());
  CHECK_FALSE(SpiffeId::FromSegments(td, {"$"}).ok());
  CHECK(SpiffeId::FromPath(td, "/foo")->ToString() == "spiffe://trustdomain/foo");
  CHECK(SpiffeId::FromPath(td, "")->path().empty());
  CHECK(std::string(SpiffeId::FromPath(td, "foo").status().message())
            .find("path must have a leading slash") != std::string::npos);
  CHECK(std::string(SpiffeId::FromPath(td, "/").status().message()).find("trailing slash") !=
        std::string::npos);
  auto base = SpiffeId::Parse("spiffe://trustdomain/path");
  CHECK(base->AppendPath("/foo")->ToString() == "spiffe://trustdomain/path/foo");
  CHECK_FALSE(SpiffeId().AppendPath("/foo").ok());
  CHECK_FALSE(SpiffeId::FromPath(TrustDomain(), "/foo").ok());
}

TEST_CASE("equality is byte equality and the path is case-sensitive") {
  CHECK(*SpiffeId::Parse("spiffe://td/A") != *SpiffeId::Parse("spiffe://td/a"));
  CHECK(*SpiffeId::Parse("spiffe://td/a") == *SpiffeId::Parse("spiffe://td/a"));
  CHECK_FALSE(SpiffeId::Parse("spiffe://td/a")->MemberOf(*TrustDomain::Parse("other")));
  CHECK(SpiffeId().ToString().empty());
}

TEST_CASE("error messages quote the input escaped and shortened") {
  auto id = SpiffeId::Parse("spiffe://td/pa\nth");
  REQUIRE_FALSE(id.ok());
  const std::string msg(id.status().message());
  CHECK(msg.find("\\n") != std::string::npos);
  CHECK(msg.find('\n') == std::string::npos);
}
