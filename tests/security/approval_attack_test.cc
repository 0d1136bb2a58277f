// Step-up approval attacks through the real binaries (`spinel-agent authorize`, `spinel-server
// approval approve`): an approval granted for one subject presented by another subject for the
// same request (a subject that itself needs an approval for it), and the approval replayed
// after its single use. Both are refused (DENY, exit 3) and recorded as approval.refused with
// the presenting subject; the other subject's attempt does not use the approval up, so its
// rightful subject still can. The approval presented for another request is covered by tests/
// integration/authorize_test.cc; an audit row edited or deleted, named by `audit verify`, by
// tests/integration/audit_cli_test.cc ("verify names the stored row that was edited, then the
// one deleted").
#include <doctest/doctest.h>

#include "tests/security/attack_util.h"

using nlohmann::json;
using spinel::testing::AgentWorld;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ShellQuote;

namespace {

constexpr char kProductionDeploy[] =
    " --resource tool:deploy.api --action invoke --context environment=production";

std::string Jwt(const AgentWorld& world, const std::string& id) {
  json fetched = ParseJsonOutput(
      world.Agent("api fetch jwt --audience spinel-authorize --output json --spiffe-id " + id));
  return fetched["svids"][0]["token"];
}

json Decision(const CommandResult& result) {
  json parsed = json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE_MESSAGE(!parsed.is_discarded(), result.Describe());
  return parsed;
}

}  // namespace

TEST_CASE("attack: an approval used by another subject, and replayed, is refused and audited") {
  AgentWorld world;
  const std::string runner = spinel::testing::kAttackRunner;
  const std::string model = spinel::testing::kAttackModel;
  const std::string as_runner = "authorize --svid " + ShellQuote(Jwt(world, runner));
  const std::string as_model = "authorize --svid " + ShellQuote(Jwt(world, model));

  CommandResult required = world.Agent(as_runner + kProductionDeploy + " --output json");
  REQUIRE_MESSAGE(required.exit_code == 4, required.Describe());
  const std::string id = Decision(required)["approval_id"];
  REQUIRE(!id.empty());
  // The other subject needs an approval for this request too: a refusal below is the binding's.
  CommandResult model_required = world.Agent(as_model + kProductionDeploy + " --output json");
  REQUIRE_MESSAGE(model_required.exit_code == 4, model_required.Describe());
  CHECK(Decision(model_required)["approval_id"] != id);
  CommandResult approved = world.server.Cli("approval approve " + id + " --reason attack-test");
  REQUIRE_MESSAGE(approved.exit_code == 0, approved.Describe());

  CommandResult stolen =
      world.Agent(as_model + kProductionDeploy + " --approval-id " + id + " --output json");
  CHECK_MESSAGE(stolen.exit_code == 3, stolen.Describe());
  CHECK(Decision(stolen)["verdict"] == "DENY");

  CommandResult rightful =
      world.Agent(as_runner + kProductionDeploy + " --approval-id " + id + " --output json");
  CHECK_MESSAGE(rightful.exit_code == 0, rightful.Describe());
  CHECK(Decision(rightful)["verdict"] == "ALLOW");

  CommandResult replayed =
      world.Agent(as_runner + kProductionDeploy + " --approval-id " + id + " --output json");
  CHECK_MESSAGE(replayed.exit_code == 3, replayed.Describe());
  CHECK(Decision(replayed)["verdict"] == "DENY");

  json refused = spinel::testing::AuditEvents(world.server, "approval.refused");
  REQUIRE_MESSAGE(refused.size() == 2, refused.dump(2));
  CHECK(refused[0]["subject"] == model);
  CHECK(refused[1]["subject"] == runner);
  for (const json& event : refused) {
    CHECK(event["outcome"] == "DENY");
    CHECK(event["actor"] == world.agent_id);
    CHECK(Contains(event["details"].get<std::string>(), id));
  }
  json used = spinel::testing::AuditEvents(world.server, "approval.used");
  REQUIRE(used.size() == 1);
  CHECK(used[0]["subject"] == runner);
  CommandResult verified = world.server.Cli("audit verify");
  CHECK_MESSAGE(verified.exit_code == 0, verified.Describe());
}
