// Integration test of the Authorization API with the real binaries: a
// spinel-server with the shipped zones, a spinel-agent attested with a join
// token, workloads (this test process's uid) registered in the tool-execution
// and training zones. Subjects are proved with the JWT-SVIDs and X509-SVIDs the
// agent hands out (`spinel-agent api fetch ...`), decisions are asked with
// `spinel-agent authorize`, step-up approvals are granted with `spinel-server
// approval approve`, and the decisions appear in `spinel-server audit list`.
#include <doctest/doctest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/process_util.h"

using nlohmann::json;
using spinel::testing::ChildProcess;
using spinel::testing::CommandResult;
using spinel::testing::RequireOk;
using spinel::testing::RunCommand;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

constexpr char kAgentId[] = "spiffe://control.spinel.test/spinel/agent/join_token/node-1";
constexpr char kRunner[] = "spiffe://tools.ai.example.org/runner";
constexpr char kTrainer[] = "spiffe://training.ai.example.org/trainer";

json ParseJson(const CommandResult& result) {
  json parsed = json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE_MESSAGE(!parsed.is_discarded(), result.Describe());
  return parsed;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// A server, an agent attested to it, and two workload entries for this
// process's uid.
class World {
 public:
  World() : server_(dir_) {
    server_.Start();
    CommandResult token = server_.Cli("token generate --agent-path node-1 --output json");
    REQUIRE_MESSAGE(token.exit_code == 0, token.Describe());
    REQUIRE(ParseJson(token)["agent_spiffe_id"] == kAgentId);
    CommandResult bundle = server_.Cli("bundle show --trust-domain control.spinel.test");
    REQUIRE_MESSAGE(bundle.exit_code == 0, bundle.Describe());
    dir_.Write("control-bundle.pem", bundle.out);
    const std::string selector = "unix:uid:" + std::to_string(::getuid());
    for (const char* id : {kRunner, kTrainer}) {
      CommandResult created = server_.Cli(std::string("entry create --spiffe-id ") + id +
                                          " --parent-id " + kAgentId + " --selector " + selector);
      REQUIRE_MESSAGE(created.exit_code == 0, created.Describe());
    }
    StartAgent(ParseJson(token)["token"].get<std::string>());
  }

  // `spinel-agent <args>` against this agent's socket.
  CommandResult Agent(const std::string& args) const {
    return RunCommand(ShellQuote(spinel::testing::BuildDir() + "/agent/spinel-agent") + " " + args +
                      " --socket " + ShellQuote(socket_));
  }
  // The JWT-SVID of `id` for audience spinel-authorize.
  std::string Jwt(const std::string& id) const {
    CommandResult fetched =
        Agent("api fetch jwt --audience spinel-authorize --output json --spiffe-id " + id);
    REQUIRE_MESSAGE(fetched.exit_code == 0, fetched.Describe());
    json svids = ParseJson(fetched)["svids"];
    REQUIRE(svids.size() == 1);
    return svids[0]["token"].get<std::string>();
  }
  CommandResult Authorize(const std::string& subject_flag, const std::string& rest) const {
    return Agent("authorize " + subject_flag + " " + rest);
  }

  const ServerProcess& server() const { return server_; }
  const TempDir& dir() const { return dir_; }
  std::string AgentLog() const { return spinel::testing::ReadWholeFile(dir_.File("agent.log")); }

 private:
  void StartAgent(const std::string& token) {
    const std::string address =
        Trim(spinel::testing::ReadWholeFile(server_.data_dir() + "/agent-api.addr"));
    socket_ = dir_.File("agent/workload.sock");
    const std::string config =
        dir_.Write("agent.yaml", "trust_domain: control.spinel.test\nserver_address: " + address +
                                     "\ntrust_bundle: " + dir_.File("control-bundle.pem") +
                                     "\ndata_dir: " + dir_.File("agent-data") +
                                     "\nsocket_path: " + socket_ + "\n");
    RequireOk(agent_.Start({spinel::testing::BuildDir() + "/agent/spinel-agent", "run", "--config",
                            config, "--join-token", token},
                           dir_.File("agent.log")));
    REQUIRE_MESSAGE(spinel::testing::WaitForFile(socket_), AgentLog());
    // Ready once the workloads' SVIDs are served (the entries and policy have
    // been synced).
    bool ready = spinel::testing::WaitFor([&] {
      REQUIRE_MESSAGE(agent_.Running(), "spinel-agent exited:\n" << AgentLog());
      return Agent("api fetch jwt --audience spinel-authorize --output json").exit_code == 0;
    });
    REQUIRE_MESSAGE(ready, AgentLog());
  }

  TempDir dir_;
  ServerProcess server_;
  std::string socket_;
  ChildProcess agent_;  // declared last: killed first
};

TEST_CASE(
    "authorize: ALLOW and DENY from the shipped zones, with JWT and "
    "X.509 subjects") {
  World world;
  const std::string runner = "--svid " + ShellQuote(world.Jwt(kRunner));
  const std::string trainer = "--svid " + ShellQuote(world.Jwt(kTrainer));

  CommandResult allowed = world.Authorize(runner,
                                          "--resource tool:deploy.api --action invoke "
                                          "--context environment=staging");
  CHECK_MESSAGE(allowed.exit_code == 0, allowed.Describe());
  CHECK(Contains(allowed.out, "ALLOW"));
  CHECK(Contains(allowed.out, "tool-execution/invoke-tools"));
  CHECK(Contains(allowed.out, kRunner));

  CommandResult denied =
      world.Authorize(trainer,
                      "--resource tool:jira.create_ticket --action invoke --context "
                      "environment=production --output json");
  REQUIRE_MESSAGE(denied.exit_code == 3, denied.Describe());
  json decision = ParseJson(denied);
  CHECK(decision["verdict"] == "DENY");
  CHECK(decision["subject"] == kTrainer);
  CHECK(decision["zone"] == "training");
  CHECK(decision["rule"] == "training/no-tools");
  CHECK(Contains(decision["reason"].get<std::string>(), "training/no-tools"));

  CommandResult no_rule = world.Authorize(runner, "--resource tool:deploy.api --action invoke");
  CHECK_MESSAGE(no_rule.exit_code == 3, no_rule.Describe());

  // The same subject proved by its X509-SVID (the files a workload writes with
  // --write).
  CommandResult written = world.Agent("api fetch x509 --write " + world.dir().File("svid"));
  REQUIRE_MESSAGE(written.exit_code == 0, written.Describe());
  CommandResult by_x509 =
      world.Authorize("--x509-svid " + world.dir().File("svid/svid.pem"),
                      "--resource dataset:training/imagenet --action read --output json");
  REQUIRE(by_x509.exit_code != 1);
  json x509_decision = ParseJson(by_x509);
  // svid.pem holds the first SVID the agent serves: a trainer may read training
  // data, a runner may not.
  if (x509_decision["subject"] == kTrainer) {
    CHECK(by_x509.exit_code == 0);
    CHECK(x509_decision["rule"] == "training/read-training-data");
  } else {
    CHECK(x509_decision["subject"] == kRunner);
    CHECK(by_x509.exit_code == 3);
  }
}

TEST_CASE(
    "authorize: an unproved subject is an error (exit 1) and bad usage "
    "is exit 2") {
  World world;
  CommandResult forged = world.Authorize("--svid not.a.token", "--resource tool:x --action invoke");
  CHECK_MESSAGE(forged.exit_code == 1, forged.Describe());
  CHECK(Contains(forged.err, "UNAUTHENTICATED"));

  CommandResult wrong_audience =
      world.Authorize("--svid " + ShellQuote(world.Jwt(kRunner)),
                      "--audience other --resource tool:x --action invoke");
  CHECK_MESSAGE(wrong_audience.exit_code == 1, wrong_audience.Describe());

  CommandResult no_subject = world.Agent("authorize --resource tool:x --action invoke");
  CHECK_MESSAGE(no_subject.exit_code == 2, no_subject.Describe());
  CommandResult bad_context =
      world.Authorize("--svid x", "--resource tool:x --action invoke --context novalue");
  CHECK_MESSAGE(bad_context.exit_code == 2, bad_context.Describe());
}

TEST_CASE("authorize: the step-up flow through both CLIs, and the audit trail") {
  World world;
  const std::string runner = "--svid " + ShellQuote(world.Jwt(kRunner));
  const std::string request =
      "--resource tool:deploy.api --action invoke "
      "--context environment=production";

  CommandResult required = world.Authorize(runner, request + " --output json");
  REQUIRE_MESSAGE(required.exit_code == 4, required.Describe() << world.AgentLog());
  json pending = ParseJson(required);
  CHECK(pending["verdict"] == "APPROVAL_REQUIRED");
  CHECK(pending["rule"] == "tool-execution/production-deploys");
  const std::string id = pending["approval_id"].get<std::string>();
  REQUIRE(!id.empty());
  CHECK(!pending["approval_expires_at"].get<std::string>().empty());

  CommandResult table = world.Authorize(runner, request);  // the same pending request again
  CHECK(table.exit_code == 4);
  CHECK(Contains(table.out, "spinel-server approval approve"));

  CommandResult early = world.Authorize(runner, request + " --approval-id " + id);
  CHECK_MESSAGE(early.exit_code == 3, early.Describe());

  CommandResult approved = world.server().Cli("approval approve " + id + " --reason ok");
  REQUIRE_MESSAGE(approved.exit_code == 0, approved.Describe());

  CommandResult other = world.Authorize(runner,
                                        "--resource tool:deploy.db --action invoke "
                                        "--context environment=production "
                                        "--approval-id " +
                                            id);
  CHECK_MESSAGE(other.exit_code == 3, other.Describe());

  CommandResult allowed =
      world.Authorize(runner, request + " --approval-id " + id + " --output json");
  REQUIRE_MESSAGE(allowed.exit_code == 0, allowed.Describe());
  CHECK(ParseJson(allowed)["approval_id"] == id);
  CHECK(Contains(ParseJson(allowed)["reason"].get<std::string>(), id));

  CommandResult replay = world.Authorize(runner, request + " --approval-id " + id);
  CHECK_MESSAGE(replay.exit_code == 3, replay.Describe());

  // Every decision reaches the server's audit log (asynchronously).
  json events;
  bool delivered = spinel::testing::WaitFor(
      [&] {
        CommandResult listed = world.server().Cli("audit list --kind authorize --output json");
        if (listed.exit_code != 0) return false;
        events = ParseJson(listed);
        if (events.is_object() && events.contains("events")) events = events["events"];
        return events.is_array() && events.size() >= 6;
      },
      std::chrono::seconds(30));
  REQUIRE_MESSAGE(delivered, events.dump(2));
  int allow = 0, deny = 0, approval = 0;
  for (const json& event : events) {
    CHECK(event["kind"] == "authorize");
    CHECK(event["subject"] == kRunner);
    CHECK(event["actor"] == kAgentId);
    if (event["outcome"] == "ALLOW") ++allow;
    if (event["outcome"] == "DENY") ++deny;
    if (event["outcome"] == "APPROVAL_REQUIRED") ++approval;
  }
  CHECK(allow == 1);
  CHECK(deny == 3);
  CHECK(approval == 2);
  CommandResult verified = world.server().Cli("audit verify");
  CHECK_MESSAGE(verified.exit_code == 0, verified.Describe());
}

}  // namespace
