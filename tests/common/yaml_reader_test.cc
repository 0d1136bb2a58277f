#include "common/yaml_reader.h"

#include <doctest/doctest.h>

using namespace std::chrono_literals;
using spinel::common::LoadYamlString;
using spinel::common::YamlErrors;
using spinel::common::YamlMap;

namespace {
std::string Message(const YamlErrors& e) { return std::string(e.status().message()); }
}  // namespace

TEST_CASE("YamlMap reads typed values and nested sections") {
  YamlErrors errors("server.yaml");
  auto root = LoadYamlString(
      "trust_domain: control.example.org\n"
      "ca_ttl: 24h\n"
      "port: 8081\n"
      "debug: true\n"
      "zones: [a, b]\n"
      "datastore:\n"
      "  url: sqlite:/tmp/x.db\n"
      "rules:\n"
      "  - name: r1\n"
      "    when: {environment: production}\n",
      &errors);
  YamlMap map(root, "", &errors);
  CHECK(map.RequiredString("trust_domain") == "control.example.org");
  CHECK(*map.Duration("ca_ttl") == 24h);
  CHECK(*map.Int("port", 0, 65535) == 8081);
  CHECK(*map.Bool("debug"));
  CHECK(map.StringList("zones") == std::vector<std::string>{"a", "b"});
  auto ds = map.Map("datastore");
  CHECK(*ds.String("url") == "sqlite:/tmp/x.db");
  ds.RejectUnknownKeys();
  auto rules = map.MapList("rules");
  REQUIRE(rules.size() == 1);
  CHECK(*rules[0].String("name") == "r1");
  CHECK(rules[0].StringMap("when").at(0).second == "production");
  rules[0].RejectUnknownKeys();
  CHECK_FALSE(map.String("absent").has_value());
  map.RejectUnknownKeys();
  CHECK(errors.ok());
}

TEST_CASE("problems name the file, line, key path and what is wrong") {
  struct Case {
    const char* yaml;
    const char* expected;
  };
  const Case cases[] = {
      {"a: 1\nbogus: 2\n", "server.yaml:2:1: bogus: unknown key"},
      {"a: 1\nsub:\n  x: 1\n  y: 2\n", "server.yaml:4:3: sub.y: unknown key"},
      {"a: 1\nca_ttl: 5 minutes\n", "server.yaml:2:1: ca_ttl: invalid duration"},
      {"a: 1\nca_ttl: 0s\n", "ca_ttl: must be greater than zero"},
      {"a: 1\nport: 70000\n", "port: must be between 0 and 65535"},
      {"a: 1\nport: 12ab\n", "port: expected a whole number"},
      {"a: 1\ndebug: yes please\n", "debug: expected true or false"},
      {"a: [1\n", "server.yaml:2:1: YAML syntax error"},
      {"a: 1\na: 2\n", "server.yaml:2:1: a: duplicate key"},
      {"a: {x: 1}\n", "a: expected a single value"},
      {"- 1\n- 2\n", "expected a mapping"},
      {"b: 1\n", "a: missing required key"},
  };
  for (const Case& c : cases) {
    const std::string yaml = c.yaml;
    CAPTURE(yaml);
    YamlErrors errors("server.yaml");
    YamlMap map(LoadYamlString(c.yaml, &errors), "", &errors);
    map.RequiredString("a");
    map.Duration("ca_ttl");
    map.Int("port", 0, 65535);
    map.Bool("debug");
    auto sub = map.Map("sub");
    sub.String("x");
    sub.RejectUnknownKeys();
    map.RejectUnknownKeys();
    // Every other key access after the first error must not replace it.
    REQUIRE_FALSE(errors.ok());
    CHECK(Message(errors).find(c.expected) != std::string::npos);
  }
}
