// Policy decisions on delegated requests (policy.h decision order, delegation_rule.h).
#include <doctest/doctest.h>

#include "tests/trust-zones/zone_fixture.h"
#include "trust-zones/policy.h"

using spinel::common::SpiffeId;
using spinel::zones::AccessRequest;
using spinel::zones::DelegationContext;
using spinel::zones::Evaluate;
using spinel::zones::RequestContext;
using spinel::zones::Verdict;
using spinel::zones::ZoneSet;
using spinel::zones::testing::LoadFiles;
using spinel::zones::testing::ZoneYaml;

namespace {

// Zone "tools" (tools.example.org) and zone "inference" (inference.example.org).
const char kToolRules[] = R"(resources:
  - name: no-deploys-for-interns
    resource: "tool:deploy.*"
    actions: [invoke]
    on_behalf_of: {groups: [interns]}
    effect: deny
  - name: prod-deploys
    resource: "tool:deploy.*"
    actions: [invoke]
    when: {environment: production}
    on_behalf_of: {groups: [sre]}
    via: ["inference/*", "tools/*"]
    approval: required
  - name: deploys
    resource: "tool:deploy.*"
    actions: [invoke]
    on_behalf_of: {groups: [sre]}
    via: ["inference/*", "tools/*"]
    max_chain: 2
  - name: tickets-for-anyone
    resource: "tool:jira.*"
    actions: [invoke]
    on_behalf_of: any
  - name: own-scratch
    resource: "dataset:scratch/**"
    actions: [read]
)";

struct World {
  ZoneSet set;
  SpiffeId caller = *SpiffeId::Parse("spiffe://tools.example.org/caller");
  SpiffeId agent = *SpiffeId::Parse("spiffe://inference.example.org/agent");

  World() {
    auto loaded =
        LoadFiles({{"tools.yaml", ZoneYaml("tools", kToolRules, "tools.example.org")},
                   {"inference.yaml", ZoneYaml("inference", "", "inference.example.org")}});
    REQUIRE_MESSAGE(loaded.ok(), std::string(loaded.status().message()));
    set = *std::move(loaded);
  }

  DelegationContext User(std::string user, std::vector<std::string> groups,
                         std::vector<SpiffeId> actors) const {
    spinel::common::DelegationClaims claims{
        .user = {"https://idp.example.org", std::move(user), {{"groups", groups}}},
        .actors = std::move(actors),
        .confirmation = {*std::move(*spinel::common::PrivateKey::Generate()).Public(),
                         spinel::common::JwsAlgorithm::kEs256}};
    return DelegationContext::FromToken(set, claims);
  }

  spinel::zones::Decision Decide(std::string_view resource, const DelegationContext* delegation,
                                 const RequestContext* context = nullptr,
                                 const SpiffeId* subject = nullptr) const {
    AccessRequest request{resource, "invoke", context, delegation};
    if (resource.starts_with("dataset:")) request.action = "read";
    return Evaluate(set, subject ? *subject : caller, request);
  }
};

}  // namespace

TEST_CASE("policy delegation: on_behalf_of, via and max_chain allow the intended chains") {
  World w;
  const DelegationContext alice = w.User("alice", {"sre"}, {w.caller, w.agent});
  auto d = w.Decide("tool:deploy.api", &alice);
  CHECK(d.verdict == Verdict::kAllow);
  CHECK(d.rule_id() == "tools/deploys");
  // Production needs approval, on the same user and chain conditions.
  const RequestContext prod = {{"environment", "production"}};
  d = w.Decide("tool:deploy.api", &alice, &prod);
  CHECK(d.verdict == Verdict::kApprovalRequired);
  CHECK(d.rule_id() == "tools/prod-deploys");
  // `on_behalf_of: any`: any user, whatever the claims.
  const DelegationContext bob = w.User("bob", {"ml"}, {w.caller});
  CHECK(w.Decide("tool:jira.create", &bob).verdict == Verdict::kAllow);
  // Rules without delegation conditions apply with or without a user.
  CHECK(w.Decide("dataset:scratch/a", &bob).verdict == Verdict::kAllow);
  CHECK(w.Decide("dataset:scratch/a", nullptr).verdict == Verdict::kAllow);
}

TEST_CASE("policy delegation: a call that needs a user and has none is DENY with that reason") {
  World w;
  auto d = w.Decide("tool:deploy.api", nullptr);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.rule == nullptr);
  CHECK(d.reason ==
        "rule tools/deploys allows invoke on tool:deploy.api only on behalf of a user: requires a "
        "user (on whose behalf) and the request has none");
  d = w.Decide("tool:jira.create", nullptr);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason.find("requires a user") != std::string::npos);
}

TEST_CASE("policy delegation: the wrong user, chain or length is denied with the reason") {
  World w;
  const DelegationContext bob = w.User("bob", {"ml"}, {w.caller, w.agent});
  auto d = w.Decide("tool:deploy.api", &bob);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason.find("user \"bob\"'s groups is not one of sre") != std::string::npos);

  const SpiffeId outsider = *SpiffeId::Parse("spiffe://partner.example/agent");
  const DelegationContext via_partner = w.User("alice", {"sre"}, {w.caller, outsider});
  d = w.Decide("tool:deploy.api", &via_partner);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason.find("actor \"spiffe://partner.example/agent\" matches none") !=
        std::string::npos);

  const DelegationContext long_chain = w.User(
      "alice", {"sre"}, {w.caller, w.agent, *SpiffeId::Parse("spiffe://inference.example.org/x")});
  d = w.Decide("tool:deploy.api", &long_chain);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason.find("the chain has 3 actors, more than max_chain 2") != std::string::npos);
}

TEST_CASE("policy delegation: deny rules with delegation conditions deny only those users") {
  World w;
  const DelegationContext intern = w.User("ivan", {"interns", "sre"}, {w.caller});
  auto d = w.Decide("tool:deploy.api", &intern);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.rule_id() == "tools/no-deploys-for-interns");
  // The deny rule needs a user, so a request on behalf of nobody is not denied by it (but by
  // the allow rule's missing user).
  d = w.Decide("tool:deploy.api", nullptr);
  CHECK(d.rule == nullptr);
  CHECK(d.reason.find("tools/deploys") != std::string::npos);
}

TEST_CASE("policy delegation: malformed delegations are denied before any rule") {
  World w;
  DelegationContext no_user = w.User("alice", {"sre"}, {w.caller});
  no_user.user.clear();
  auto d = w.Decide("tool:jira.x", &no_user);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason == "the delegation has no user");
  DelegationContext no_actors = w.User("alice", {"sre"}, {w.caller});
  no_actors.actors.clear();
  CHECK(w.Decide("tool:jira.x", &no_actors).reason.find("1 to 16 actors") != std::string::npos);
  // The current actor must be the subject being authorized.
  const DelegationContext agents = w.User("alice", {"sre"}, {w.agent});
  d = w.Decide("tool:jira.x", &agents);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason.find("is not the subject") != std::string::npos);
}
