#include "trust-zones/policy.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "tests/trust-zones/zone_fixture.h"

using spinel::zones::AccessRequest;
using spinel::zones::BuildZoneSet;
using spinel::zones::Decision;
using spinel::zones::Evaluate;
using spinel::zones::LoadZoneDir;
using spinel::zones::RequestContext;
using spinel::zones::Verdict;
using spinel::zones::VerdictName;
using spinel::zones::Zone;
using spinel::zones::ZoneSet;
using spinel::zones::testing::ShippedZonesDir;
using spinel::zones::testing::ZoneYaml;

namespace {

// Zone "z" exercises every rule feature; zone "y" only denies tools.
const char kRules[] = R"(resources:
  - name: read-train
    resource: "dataset:training/*"
    actions: [read, list]
  - resource: "dataset:training/secret-*"
    actions: [read]
    effect: deny
  - name: prod-deploy
    resource: "tool:deploy.*"
    actions: [invoke]
    when: {environment: production}
    approval: required
  - name: any-tool
    resource: "tool:*"
    actions: [invoke]
  - name: groups
    resource: "dataset:hr/**"
    actions: ["*"]
    when: {on_behalf_of: [group-a, group-b], environment: production}
  - name: api-key
    resource: "secret:api-?"
    actions: [read]
  - name: call-y
    resource: "zone:y"
    actions: [call]
  - name: danger
    resource: "tool:danger.*"
    actions: [invoke]
    approval: required
  - name: no-danger-in-prod
    resource: "tool:danger.*"
    actions: [invoke]
    when: {environment: production}
    effect: deny
  - name: explicit-none
    resource: "secret:plain"
    actions: [read]
    approval: none
)";

ZoneSet FixtureZones() {
  absl::StatusOr<ZoneSet> set = BuildZoneSet(
      {{"z.yaml", ZoneYaml("z", kRules)},
       {"y.yaml", ZoneYaml("y",
                           "resources:\n  - name: no-tools\n    resource: \"tool:**\"\n"
                           "    actions: [\"*\"]\n    effect: deny\n")}});
  REQUIRE_MESSAGE(set.ok(), std::string(set.status().message()));
  return *std::move(set);
}

Decision Eval(const ZoneSet& set, std::vector<std::string> zones, std::string_view resource,
              std::string_view action, const RequestContext& context = {}) {
  std::vector<const Zone*> ptrs;
  for (const std::string& z : zones) ptrs.push_back(set.Find(z));
  return Evaluate(ptrs, AccessRequest{resource, action, &context});
}

struct Case {
  const char* what;
  const char* resource;
  const char* action;
  RequestContext context;
  Verdict verdict;
  const char* rule;    // expected rule id, "" for none
  const char* reason;  // expected substring of the reason
};

void RunCases(const ZoneSet& set, std::vector<std::string> zones, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Decision d = Eval(set, zones, c.resource, c.action, c.context);
    CAPTURE(d.reason);
    CHECK(VerdictName(d.verdict) == VerdictName(c.verdict));
    CHECK(d.rule_id() == c.rule);
    CHECK((d.rule == nullptr) == (d.zone == nullptr));
    CHECK(d.reason.find(c.reason) != std::string::npos);
  }
}

constexpr Verdict kAllow = Verdict::kAllow;
constexpr Verdict kDeny = Verdict::kDeny;
constexpr Verdict kApproval = Verdict::kApprovalRequired;

}  // namespace

// The tables below keep one case per row or two; clang-format would explode them.
// clang-format off
TEST_CASE("policy: every rule feature, deny wins, approval wins over allow, no match denies") {
  const ZoneSet set = FixtureZones();
  const RequestContext prod = {{"environment", "production"}};
  const RequestContext staging = {{"environment", "staging"}};
  RunCases(set, {"z"}, {
      {"glob allow", "dataset:training/imagenet", "read", {}, kAllow, "z/read-train",
       "rule z/read-train allows read on dataset:training/imagenet"},
      {"second action of the rule", "dataset:training/imagenet", "list", {}, kAllow,
       "z/read-train", "allows"},
      {"action not covered", "dataset:training/imagenet", "write", {}, kDeny, "",
       "no rule of zone z allows write on dataset:training/imagenet"},
      {"'*' does not cross '/'", "dataset:training/a/b", "read", {}, kDeny, "", "no rule"},
      {"deny wins over an earlier allow", "dataset:training/secret-keys", "read", {}, kDeny,
       "z/resources[1]", "rule z/resources[1] denies read on dataset:training/secret-keys"},
      {"the deny covers only its actions", "dataset:training/secret-keys", "list", {}, kAllow,
       "z/read-train", "allows"},
      {"approval wins over a plain allow", "tool:deploy.api", "invoke", prod, kApproval,
       "z/prod-deploy", "rule z/prod-deploy requires approval for invoke on tool:deploy.api"},
      {"condition mismatch", "tool:deploy.api", "invoke", staging, kAllow, "z/any-tool",
       "allows"},
      {"condition key absent does not match", "tool:deploy.api", "invoke", {}, kAllow,
       "z/any-tool", "allows"},
      {"plain allow", "tool:jira.create_ticket", "invoke", prod, kAllow, "z/any-tool", "allows"},
      {"list condition, any listed value", "dataset:hr/reviews/2024", "delete",
       {{"on_behalf_of", "group-b"}, {"environment", "production"}}, kAllow, "z/groups",
       "allows"},
      {"list condition, value not listed", "dataset:hr/reviews", "read",
       {{"on_behalf_of", "group-c"}, {"environment", "production"}}, kDeny, "", "no rule"},
      {"all conditions must hold", "dataset:hr/reviews", "read", {{"on_behalf_of", "group-a"}},
       kDeny, "", "no rule"},
      {"conditions are case-sensitive", "dataset:hr/x", "read",
       {{"on_behalf_of", "Group-A"}, {"environment", "production"}}, kDeny, "", "no rule"},
      {"'?' one character", "secret:api-1", "read", {}, kAllow, "z/api-key", "allows"},
      {"'?' not two", "secret:api-12", "read", {}, kDeny, "", "no rule"},
      {"approval: none is a plain allow", "secret:plain", "read", {}, kAllow, "z/explicit-none",
       "allows"},
      {"zone call", "zone:y", "call", {}, kAllow, "z/call-y", "allows call on zone:y"},
      {"zone call elsewhere", "zone:x", "call", {}, kDeny, "", "no rule"},
      {"deny wins over approval", "tool:danger.rm", "invoke", prod, kDeny,
       "z/no-danger-in-prod", "denies"},
      {"approval when the deny does not apply", "tool:danger.rm", "invoke", staging, kApproval,
       "z/danger", "requires approval"},
      {"action outside the kind's vocabulary", "tool:jira.x", "call", {}, kDeny, "",
       "action \"call\" is not one of tool's (invoke)"},
      {"unknown kind", "model:x", "read", {}, kDeny, "", "is not <kind>:<name>"},
      {"no kind", "training/imagenet", "read", {}, kDeny, "", "is not <kind>:<name>"},
      {"empty name", "dataset:", "read", {}, kDeny, "", "resource name is empty"},
      {"dot-dot segment", "dataset:training/../hr/x", "read", {}, kDeny, "", "path segment"},
      {"dot segment", "dataset:training/./x", "read", {}, kDeny, "", "path segment"},
      {"empty segment", "dataset:training//x", "read", {}, kDeny, "", "path segment"},
      {"space in name", "dataset:training/a b", "read", {}, kDeny, "", "printable ASCII"},
  });
  const std::string long_name = "dataset:training/" + std::string(2000, 'a');
  CHECK(Eval(set, {"z"}, long_name, "read").reason.find("longer than") != std::string::npos);
}

TEST_CASE("policy: a subject in several zones pools their rules; deny in any zone wins") {
  const ZoneSet set = FixtureZones();
  const RequestContext prod = {{"environment", "production"}};
  RunCases(set, {"z", "y"}, {
      {"deny from the second zone", "tool:deploy.api", "invoke", prod, kDeny, "y/no-tools",
       "rule y/no-tools denies"},
      {"allow from the first zone", "dataset:training/x", "read", {}, kAllow, "z/read-train",
       "allows"},
  });
  RunCases(set, {"y"}, {{"no rule in y", "dataset:training/x", "read", {}, kDeny, "",
                         "no rule of zone y allows"}});
  RunCases(set, {}, {{"no zones", "dataset:training/x", "read", {}, kDeny, "",
                      "no rule of zone (none) allows"}});
  // A null context is an empty one.
  const Zone* const z[] = {set.Find("z")};
  CHECK(Evaluate(z, AccessRequest{"tool:deploy.x", "invoke", nullptr}).allowed());
}
// clang-format on

TEST_CASE("policy: the subject's zone comes from its SPIFFE ID") {
  const ZoneSet set = FixtureZones();
  auto in_y = spinel::common::SpiffeId::Parse("spiffe://y.example.org/agent/w");
  auto in_z = spinel::common::SpiffeId::Parse("spiffe://z.example.org/w");
  auto nowhere = spinel::common::SpiffeId::Parse("spiffe://other.org/w");
  const AccessRequest tool{"tool:jira.x", "invoke", nullptr};
  CHECK(Evaluate(set, *in_z, tool).allowed());
  CHECK(Evaluate(set, *in_y, tool).rule_id() == "y/no-tools");
  Decision d = Evaluate(set, *nowhere, tool);
  CHECK(d.verdict == Verdict::kDeny);
  CHECK(d.reason == "subject \"spiffe://other.org/w\" is in no known zone");
}

// clang-format off
TEST_CASE("policy: the shipped zones decide as documented") {
  absl::StatusOr<ZoneSet> set = LoadZoneDir(ShippedZonesDir());
  REQUIRE(set.ok());
  const RequestContext prod = {{"environment", "production"}};
  const RequestContext staging = {{"environment", "staging"}};
  RunCases(*set, {"training"}, {
      {"training data", "dataset:training/imagenet/v2", "read", {}, kAllow,
       "training/read-training-data", "allows"},
      {"no tools", "tool:jira.create_ticket", "invoke", prod, kDeny, "training/no-tools",
       "denies"},
      {"no tools, any name", "tool:github/create_pr", "invoke", {}, kDeny, "training/no-tools",
       "denies"},
  });
  RunCases(*set, {"tool-execution"}, {
      {"production ticket", "tool:jira.create_ticket", "invoke", prod, kApproval,
       "tool-execution/production-tickets", "requires approval"},
      {"production deploy", "tool:deploy.api", "invoke", prod, kApproval,
       "tool-execution/production-deploys", "requires approval"},
      {"staging deploy", "tool:deploy.api", "invoke", staging, kAllow,
       "tool-execution/invoke-tools", "allows"},
      {"environment must be stated", "tool:deploy.api", "invoke", {}, kDeny, "", "no rule"},
      {"no model data", "dataset:models/production/x", "read", {}, kDeny,
       "tool-execution/no-model-data", "denies"},
  });
  RunCases(*set, {"inference"}, {
      {"weights", "dataset:models/production/llama/weights", "read", {}, kAllow,
       "inference/read-model-weights", "allows"},
      {"weights are read-only", "dataset:models/production/llama/weights", "write", {}, kDeny,
       "inference/weights-are-read-only", "denies"},
      {"call retrieval", "zone:retrieval", "call", {}, kAllow, "inference/call-retrieval",
       "allows"},
      {"production deploy from inference", "tool:deploy.api", "invoke", prod, kApproval,
       "inference/production-deploys", "requires approval"},
  });
  RunCases(*set, {"retrieval"}, {
      {"documents", "dataset:docs/handbook/2024", "read", {}, kAllow, "retrieval/read-documents",
       "allows"},
      // on_behalf_of is the verified rule key: a caller-asserted context value is no user.
      {"restricted, group asserted in context", "dataset:restricted/hr/salaries", "read",
       {{"on_behalf_of", "hr-analysts"}}, kDeny, "", "only on behalf of a user"},
      {"restricted, on behalf of nobody", "dataset:restricted/hr/salaries", "read", {}, kDeny, "",
       "requires a user"},
      {"no tools", "tool:jira.create_ticket", "invoke", prod, kDeny, "", "no rule"},
  });
}
// clang-format on

// Speed is a benchmark figure (authorize_bench: every decision evaluates these zones), never a
// timed test: this checks only that many evaluations over the shipped zones give the same
// verdicts.
TEST_CASE("policy: repeated evaluation over the shipped zones gives the same verdicts") {
  absl::StatusOr<ZoneSet> set = LoadZoneDir(ShippedZonesDir());
  REQUIRE(set.ok());
  const Zone* const zones[] = {set->Find("tool-execution"), set->Find("inference")};
  const RequestContext context = {{"environment", "staging"}, {"on_behalf_of", "group-a"}};
  const AccessRequest requests[] = {
      {"tool:deploy.api", "invoke", &context},
      {"dataset:models/production/llama-3/weights/shard-00017", "read", &context},
      {"secret:tools/jira-token", "read", &context},
      {"dataset:nothing/matches/this", "list", &context},
  };
  constexpr int kRounds = 2000;
  size_t allowed = 0;
  for (int i = 0; i < kRounds; ++i) allowed += Evaluate(zones, requests[i % 4]).allowed() ? 1 : 0;
  CHECK(allowed == kRounds / 2);
}
