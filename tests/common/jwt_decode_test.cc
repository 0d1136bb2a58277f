#include "common/jwt_decode.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

using nlohmann::json;
using spinel::common::CheckJwtExpiry;
using spinel::common::CheckJwtNotAfter;
using spinel::common::Duration;
using spinel::common::FromUnixSeconds;
using spinel::common::TimePoint;

namespace {

const TimePoint now = FromUnixSeconds(1'700'000'000);
const Duration leeway = std::chrono::seconds(60);

std::string Message(const absl::Status& s) { return std::string(s.message()); }

// Claims as a token's payload brings them: parsed from JSON text.
json Claims(const char* text) { return json::parse(text); }

}  // namespace

TEST_CASE("CheckJwtExpiry: valid while now < exp + leeway, the boundary itself expired") {
  absl::StatusOr<TimePoint> exp =
      CheckJwtExpiry(Claims(R"({"exp": 1699999941})"), now, leeway, "WPT");
  REQUIRE_MESSAGE(exp.ok(), Message(exp.status()));
  CHECK(*exp == FromUnixSeconds(1'699'999'941));
  absl::StatusOr<TimePoint> at_boundary =
      CheckJwtExpiry(Claims(R"({"exp": 1699999940})"), now, leeway, "WPT");
  CHECK(at_boundary.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Message(at_boundary.status()) ==
        "WPT rejected: exp: expired at 1699999940 (now 1700000000)");
}

TEST_CASE("CheckJwtExpiry: a missing or malformed exp is rejected under the token's name") {
  CHECK(Message(CheckJwtExpiry(Claims("{}"), now, leeway, "user token").status()) ==
        "user token rejected: exp: missing");
  CHECK(Message(CheckJwtExpiry(Claims(R"({"exp": "soon"})"), now, leeway, "WIT-SVID").status()) ==
        "WIT-SVID rejected: exp: \"exp\" is not a number");
  CHECK(Message(CheckJwtExpiry(Claims(R"({"exp": -1})"), now, leeway, "WIT-SVID").status()) ==
        "WIT-SVID rejected: exp: \"exp\" is out of range");
}

TEST_CASE("CheckJwtNotAfter: absent is fine, up to the limit accepted, later rejected") {
  const TimePoint limit = now + leeway;
  absl::StatusOr<std::optional<TimePoint>> absent =
      CheckJwtNotAfter(Claims("{}"), "nbf", limit, "delegation token");
  REQUIRE(absent.ok());
  CHECK(!absent->has_value());
  absl::StatusOr<std::optional<TimePoint>> at_limit =
      CheckJwtNotAfter(Claims(R"({"iat": 1700000060})"), "iat", limit, "delegation token");
  REQUIRE_MESSAGE(at_limit.ok(), Message(at_limit.status()));
  CHECK(**at_limit == limit);
  absl::StatusOr<std::optional<TimePoint>> later =
      CheckJwtNotAfter(Claims(R"({"iat": 1700000061})"), "iat", limit, "delegation token");
  CHECK(Message(later.status()) == "delegation token rejected: iat: in the future (1700000061)");
  CHECK(
      Message(CheckJwtNotAfter(Claims(R"({"nbf": true})"), "nbf", limit, "user token").status()) ==
      "user token rejected: nbf: \"nbf\" is not a number");
}
