#include "common/rfc3339.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

#include "absl/time/time.h"

using namespace std::chrono_literals;
using spinel::common::FormatRfc3339;
using spinel::common::FormatRfc3339Millis;
using spinel::common::FromUnixSeconds;
using spinel::common::TimePoint;

TEST_CASE("FormatRfc3339 prints UTC with a Z, in whole seconds") {
  CHECK(FormatRfc3339(int64_t{0}) == "1970-01-01T00:00:00Z");
  CHECK(FormatRfc3339(int64_t{1769860800}) == "2026-01-31T12:00:00Z");
  CHECK(FormatRfc3339(int64_t{951782400}) == "2000-02-29T00:00:00Z");  // leap day
  CHECK(FormatRfc3339(int64_t{253402300799}) == "9999-12-31T23:59:59Z");
  CHECK(FormatRfc3339(int64_t{253402300800}) == "10000-01-01T00:00:00Z");
  CHECK(FormatRfc3339(FromUnixSeconds(1769860800) + 999ms) == "2026-01-31T12:00:00Z");
}

TEST_CASE("FormatRfc3339 rounds down, also before 1970") {
  CHECK(FormatRfc3339(int64_t{-1}) == "1969-12-31T23:59:59Z");
  CHECK(FormatRfc3339(TimePoint(-500ms)) == "1969-12-31T23:59:59Z");
  CHECK(FormatRfc3339Millis(TimePoint(-500ms)) == "1969-12-31T23:59:59.500Z");
}

TEST_CASE("FormatRfc3339Millis prints three digits of milliseconds") {
  CHECK(FormatRfc3339Millis(FromUnixSeconds(1769860800)) == "2026-01-31T12:00:00.000Z");
  CHECK(FormatRfc3339Millis(FromUnixSeconds(1769860800) + 7ms + 900us) ==
        "2026-01-31T12:00:00.007Z");
  CHECK(FormatRfc3339Millis(FromUnixSeconds(1769860800) + 59s + 999ms) ==
        "2026-01-31T12:00:59.999Z");
}

TEST_CASE("a time the C library cannot break down prints as its count of seconds") {
  const int64_t far = std::numeric_limits<int64_t>::max();
  CHECK(FormatRfc3339(far) == std::to_string(far));
}

TEST_CASE("FormatRfc3339 agrees with abseil's formatter over random times") {
  constexpr int64_t kLastTimePointSecond = 9'000'000'000;  // 2255
  std::mt19937_64 random(20260131);
  std::uniform_int_distribution<int64_t> seconds(-2'000'000'000LL, 253'402'300'799LL);
  for (int i = 0; i < 2000; ++i) {
    const int64_t s = seconds(random);
    CAPTURE(s);
    const std::string expected =
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(s), absl::UTCTimeZone());
    CHECK(FormatRfc3339(s) == expected);
    // A system_clock time point (nanoseconds in 64 bits) reaches only from 1677 to 2262.
    if (s < kLastTimePointSecond) CHECK(FormatRfc3339(FromUnixSeconds(s) + 250ms) == expected);
  }
}
