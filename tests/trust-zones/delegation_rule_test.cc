#include "trust-zones/delegation_rule.h"

#include <doctest/doctest.h>

#include "tests/trust-zones/zone_fixture.h"
#include "trust-zones/delegation_context.h"
#include "trust-zones/zone_loader.h"

using spinel::common::SpiffeId;
using spinel::zones::DelegationContext;
using spinel::zones::DelegationMismatch;
using spinel::zones::ParseZone;
using spinel::zones::Rule;
using spinel::zones::testing::ZoneYaml;

namespace {

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// The first rule of a zone whose resources list is `rules` (starting on line 7).
Rule ParseOne(const std::string& rule_lines) {
  auto zone = ParseZone({"a.yaml", ZoneYaml("a", "resources:\n" + rule_lines)});
  REQUIRE_MESSAGE(zone.ok(), Message(zone.status()));
  REQUIRE(zone->rules.size() == 1);
  return zone->rules[0];
}

DelegationContext Alice(std::vector<std::string> actor_names = {"inference/agent"}) {
  DelegationContext out;
  out.user = "alice";
  out.user_issuer = "https://idp.example.org";
  out.claims = {{"email", {"alice@example.org"}}, {"groups", {"ml", "sre"}}};
  for (size_t i = 0; i < actor_names.size(); ++i) {
    out.actors.push_back(
        {*SpiffeId::Parse("spiffe://x.org/a" + std::to_string(i)), actor_names[i]});
  }
  return out;
}

}  // namespace

TEST_CASE("delegation conditions: parsing and text") {
  Rule rule = ParseOne(
      "  - resource: \"tool:deploy.*\"\n    actions: [invoke]\n"
      "    on_behalf_of: {groups: [sre, oncall], email: alice@example.org}\n"
      "    via: [\"inference/*\", \"tool-execution/mcp-*\"]\n    max_chain: 2\n");
  CHECK(rule.delegation.requires_user);
  REQUIRE(rule.delegation.on_behalf_of.size() == 2);
  CHECK(rule.delegation.on_behalf_of[0].key == "groups");
  CHECK(rule.delegation.on_behalf_of[0].values == std::vector<std::string>{"sre", "oncall"});
  CHECK(rule.delegation.via.size() == 2);
  CHECK(rule.delegation.max_chain == 2u);
  CHECK(rule.ToString() ==
        "allow tool:deploy.* [invoke] on behalf of groups=sre|oncall and "
        "email=alice@example.org via inference/*|tool-execution/mcp-* max chain 2");

  Rule any = ParseOne("  - resource: \"tool:x\"\n    actions: [invoke]\n    on_behalf_of: any\n");
  CHECK(any.delegation.requires_user);
  CHECK(any.delegation.on_behalf_of.empty());
  CHECK(any.ToString() == "allow tool:x [invoke] on behalf of any user");

  Rule plain = ParseOne("  - resource: \"tool:x\"\n    actions: [invoke]\n");
  CHECK_FALSE(plain.delegation.requires_user);
  CHECK(DelegationMismatch(plain.delegation, nullptr).empty());
}

TEST_CASE("delegation conditions: bad values name the key and line") {
  const std::string head = "  - resource: \"tool:x\"\n    actions: [invoke]\n";  // lines 7-8
  const std::pair<std::string, std::string> cases[] = {
      {"    on_behalf_of: everyone\n",
       "a.yaml:9:5: resources[0].on_behalf_of: expected `any` or a mapping"},
      {"    on_behalf_of: {}\n", "a.yaml:9:5: resources[0].on_behalf_of: an empty mapping"},
      {"    on_behalf_of: {groups: []}\n",
       "a.yaml:9:28: resources[0].on_behalf_of.groups: expected a value or a non-empty list"},
      {"    on_behalf_of: {groups: {a: b}}\n",
       "a.yaml:9:28: resources[0].on_behalf_of.groups: expected a value or a non-empty list"},
      {"    on_behalf_of: [sre]\n", "a.yaml:9:19: resources[0].on_behalf_of:"},
      {"    via: []\n", "a.yaml:9:5: resources[0].via: must list at least one actor pattern"},
      {"    via: [\"a/***\"]\n", "a.yaml:9:11: resources[0].via:"},
      {"    via: inference/*\n", "a.yaml:9:5: resources[0].via: expected a list"},
      {"    max_chain: 0\n", "a.yaml:9:5: resources[0].max_chain: must be between 1 and 16"},
      {"    max_chain: two\n", "a.yaml:9:5: resources[0].max_chain: expected a whole number"},
  };
  for (const auto& test_case : cases) {
    const std::string& extra = test_case.first;
    const std::string& expected = test_case.second;
    CAPTURE(extra);
    auto zone = ParseZone({"a.yaml", ZoneYaml("a", "resources:\n" + head + extra)});
    REQUIRE_FALSE(zone.ok());
    CHECK_MESSAGE(Message(zone.status()).find(expected) != std::string::npos,
                  Message(zone.status()));
  }
}

TEST_CASE("delegation conditions: claims, chain patterns and length") {
  Rule rule = ParseOne(
      "  - resource: \"tool:x\"\n    actions: [invoke]\n"
      "    on_behalf_of: {groups: [sre]}\n    via: [\"inference/*\"]\n    max_chain: 2\n");
  const auto& c = rule.delegation;
  DelegationContext alice = Alice();
  CHECK(DelegationMismatch(c, &alice).empty());
  CHECK(DelegationMismatch(c, nullptr) ==
        "requires a user (on whose behalf) and the request has none");

  DelegationContext bob = Alice();
  bob.user = "bob";
  bob.claims["groups"] = {"ml"};
  CHECK(DelegationMismatch(c, &bob) == "user \"bob\"'s groups is not one of sre");
  bob.claims.erase("groups");
  CHECK(DelegationMismatch(c, &bob) ==
        "user \"bob\" has no groups claim (the rule requires groups=sre)");

  DelegationContext through_tools = Alice({"tool-execution/caller", "inference/agent"});
  CHECK(DelegationMismatch(c, &through_tools) ==
        "actor \"tool-execution/caller\" matches none of the rule's via patterns");
  // Every actor counts, not only the current one.
  DelegationContext earlier_outsider = Alice({"inference/agent", "spiffe://partner.example/x"});
  CHECK_FALSE(DelegationMismatch(c, &earlier_outsider).empty());
  DelegationContext long_chain = Alice({"inference/a", "inference/b", "inference/c"});
  CHECK(DelegationMismatch(c, &long_chain) == "the chain has 3 actors, more than max_chain 2");

  // "sub" is the user's subject.
  Rule by_sub = ParseOne(
      "  - resource: \"tool:x\"\n    actions: [invoke]\n    on_behalf_of: {sub: [alice, carol]}\n");
  CHECK(DelegationMismatch(by_sub.delegation, &alice).empty());
  CHECK_FALSE(DelegationMismatch(by_sub.delegation, &bob).empty());
}

TEST_CASE("delegation context: actors are named by zone, outsiders by SPIFFE ID") {
  auto set = spinel::zones::testing::LoadFiles(
      {{"inference.yaml", ZoneYaml("inference", "", "inference.ai.example.org")}});
  REQUIRE(set.ok());
  spinel::common::DelegationClaims token{
      .user = {"https://idp.example.org",
               "alice",
               {{"email", "alice@example.org"}, {"groups", {"sre"}}}},
      .actors = {*SpiffeId::Parse("spiffe://inference.ai.example.org/model/server"),
                 *SpiffeId::Parse("spiffe://partner.example/agent")},
      .confirmation = {*std::move(*spinel::common::PrivateKey::Generate()).Public(),
                       spinel::common::JwsAlgorithm::kEs256}};
  DelegationContext context = DelegationContext::FromToken(*set, token);
  CHECK(context.user == "alice");
  CHECK(context.user_issuer == "https://idp.example.org");
  CHECK(context.claims.at("email") == std::vector<std::string>{"alice@example.org"});
  CHECK(context.claims.at("groups") == std::vector<std::string>{"sre"});
  REQUIRE(context.actors.size() == 2);
  CHECK(context.actors[0].name == "inference/model/server");
  CHECK(context.actors[1].name == "spiffe://partner.example/agent");
  CHECK(context.ActorIds() ==
        std::vector<std::string>{"spiffe://inference.ai.example.org/model/server",
                                 "spiffe://partner.example/agent"});
}
