#include "trust-zones/pattern.h"

#include <doctest/doctest.h>

using spinel::zones::kMaxResourceNameLength;
using spinel::zones::Pattern;

TEST_CASE("glob patterns: '*' stays within a path segment, '**' crosses, '?' is one char") {
  struct Case {
    const char* pattern;
    const char* name;
    bool match;
  };
  const Case cases[] = {
      {"training/imagenet", "training/imagenet", true},
      {"training/imagenet", "training/imagenet2", false},
      {"training/imagenet", "Training/imagenet", false},  // case-sensitive
      {"training/*", "training/imagenet", true},
      {"training/*", "training/", true},  // '*' may match nothing
      {"training/*", "training/a/b", false},
      {"training/*", "training", false},
      {"training/**", "training/a/b/c", true},
      {"training/**", "trainingx", false},
      {"**", "any/thing/at/all", true},
      {"*", "jira.create_ticket", true},  // '*' crosses '.'
      {"*", "a/b", false},
      {"deploy.*", "deploy.api", true},
      {"deploy.*", "deploy.api.v2", true},
      {"deploy.*", "deploy", false},
      {"deploy.*", "undeploy.api", false},  // anchored
      {"*.create_ticket", "jira.create_ticket", true},
      {"*.create_ticket", "jira.create_ticket2", false},
      {"api-?", "api-1", true},
      {"api-?", "api-12", false},
      {"api-?", "api-", false},
      {"a?c", "a/c", false},
      {"a*b*c", "axxbyyc", true},
      {"a*b*c", "axxbyy", false},
      {"a*b*c", "abcbc", true},
      {"docs/**/index", "docs/a/b/index", true},
      {"docs/**/index", "docs/index", false},
      {"docs/*/index", "docs/a/index", true},
      {"docs/*/index", "docs/a/b/index", false},
      {"x/**", "x/", true},
      {"[abc]", "[abc]", true},  // no character classes: literal
      {"[abc]", "a", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.pattern);
    CAPTURE(c.name);
    absl::StatusOr<Pattern> p = Pattern::Compile(c.pattern);
    REQUIRE(p.ok());
    CHECK(p->Matches(c.name) == c.match);
  }
}

TEST_CASE("invalid patterns are rejected") {
  for (const char* bad : {"", "a***", "***", "a b", "tab\there", "\x7f"}) {
    CAPTURE(bad);
    absl::StatusOr<Pattern> p = Pattern::Compile(bad);
    REQUIRE_FALSE(p.ok());
    CHECK(std::string(p.status().message()).find("invalid pattern") != std::string::npos);
  }
}

TEST_CASE("names longer than the limit never match; the default pattern matches nothing") {
  auto all = Pattern::Compile("**");
  REQUIRE(all.ok());
  CHECK(all->Matches(std::string(kMaxResourceNameLength, 'a')));
  CHECK_FALSE(all->Matches(std::string(kMaxResourceNameLength + 1, 'a')));
  CHECK_FALSE(Pattern().Matches(""));
  CHECK_FALSE(Pattern().Matches("x"));
}
