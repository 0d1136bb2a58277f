#include "common/selector.h"

#include <doctest/doctest.h>

using spinel::common::IsSubset;
using spinel::common::Normalize;
using spinel::common::Selector;
using spinel::common::SelectorSet;

TEST_CASE("Selector::Parse splits at the first colon; the value may contain colons") {
  auto s = Selector::Parse("unix:uid:1000");
  REQUIRE(s.ok());
  CHECK(s->type == "unix");
  CHECK(s->value == "uid:1000");
  CHECK(s->ToString() == "unix:uid:1000");
  CHECK(Selector::Parse("k8s:pod-uid:1234-abcd")->value == "pod-uid:1234-abcd");
}

TEST_CASE("Selector::Parse rejects malformed selectors naming the rule") {
  struct Case {
    const char* input;
    const char* why;
  };
  for (const Case& c : {Case{"unix", "expected type:value"}, Case{":x", "type is empty"},
                        Case{"unix:", "value is empty"}, Case{"Unix:x", "type may contain"},
                        Case{"unix:a b", "printable ASCII"}, Case{"unix:a\n", "printable ASCII"}}) {
    CAPTURE(c.input);
    auto s = Selector::Parse(c.input);
    REQUIRE_FALSE(s.ok());
    CHECK(std::string(s.status().message()).find(c.why) != std::string::npos);
  }
}

TEST_CASE("IsSubset: a workload matches an entry whose selectors are all among its own") {
  SelectorSet have = {*Selector::Parse("unix:uid:1000"), *Selector::Parse("unix:gid:1000"),
                      *Selector::Parse("unix:uid:1000")};
  Normalize(have);
  CHECK(have.size() == 2);
  SelectorSet want = {*Selector::Parse("unix:uid:1000")};
  CHECK(IsSubset(want, have));
  SelectorSet other = {*Selector::Parse("unix:uid:1001")};
  CHECK_FALSE(IsSubset(other, have));
  CHECK(IsSubset({}, have));
}
