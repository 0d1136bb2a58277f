#include "common/duration.h"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using spinel::common::FormatDuration;
using spinel::common::ParseDuration;

TEST_CASE("ParseDuration accepts h/m/s/ms sequences") {
  CHECK(*ParseDuration("90s") == 90s);
  CHECK(*ParseDuration("5m") == 5min);
  CHECK(*ParseDuration("1h30m") == 90min);
  CHECK(*ParseDuration("250ms") == 250ms);
  CHECK(*ParseDuration("1m30s500ms") == 90500ms);
  CHECK(*ParseDuration("0s") == 0ms);
  CHECK(*ParseDuration("24h") == 24h);
}

TEST_CASE("ParseDuration rejects malformed text with a clear message") {
  for (const char* bad : {"", "5", "s", "-5s", "1.5h", "5x", "30m1h", "1m1m", "5 s", " 5s", "5s ",
                          "99999999999999999999h", "1hh"}) {
    CAPTURE(bad);
    auto d = ParseDuration(bad);
    REQUIRE_FALSE(d.ok());
    CHECK(d.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(d.status().message()).find("invalid duration") != std::string::npos);
  }
}

TEST_CASE("FormatDuration is the canonical inverse of ParseDuration") {
  CHECK(FormatDuration(5400s) == "1h30m");
  CHECK(FormatDuration(1500ms) == "1s500ms");
  CHECK(FormatDuration(0ms) == "0s");
  for (const char* text : {"1h", "1h1m1s1ms", "59m59s", "20s"}) {
    CHECK(FormatDuration(*ParseDuration(text)) == text);
  }
}

TEST_CASE("large durations made of several units round-trip (fuzzer finding)") {
  auto d = ParseDuration("1h30152030076625s");
  REQUIRE(d.ok());
  CHECK(*ParseDuration(FormatDuration(*d)) == *d);
  CHECK_FALSE(ParseDuration("2562047788015h1h").ok());
}
