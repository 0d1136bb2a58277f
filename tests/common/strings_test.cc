#include "common/strings.h"

#include <doctest/doctest.h>

#include <string>

using spinel::common::AsciiLower;

TEST_CASE("AsciiLower lower-cases A-Z and leaves every other byte as it is") {
  CHECK(AsciiLower("Application/AT+JWT") == "application/at+jwt");
  CHECK(AsciiLower("already lower 0-9_@[`{") == "already lower 0-9_@[`{");
  CHECK(AsciiLower("") == "");
  // Bytes outside ASCII (here UTF-8 for "É") are not letters to it.
  CHECK(AsciiLower("\xC3\x89T\xC3\xA9") == "\xC3\x89t\xC3\xA9");
  CHECK(AsciiLower(std::string("A\0B", 3)) == std::string("a\0b", 3));
}
