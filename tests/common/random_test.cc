#include "common/random.h"

#include <doctest/doctest.h>

#include <set>

using namespace spinel::common;

TEST_CASE("random values have the promised shape and do not repeat") {
  CHECK(RandomBytes(32)->size() == 32);
  CHECK(RandomHex(16)->size() == 32);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string uuid = *RandomUuid();
    REQUIRE(uuid.size() == 36);
    CHECK(uuid[14] == '4');
    CHECK(std::string("89ab").find(uuid[19]) != std::string::npos);
    seen.insert(uuid);
  }
  CHECK(seen.size() == 1000);
}
