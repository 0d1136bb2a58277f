// The example tool runner's MCP server with an MCP client nobody here wrote: the official
// TypeScript SDK (tests/integration/mcp_client.mjs; @modelcontextprotocol/sdk and undici from
// scripts/setup.sh, found in $SPINEL_NODE_DIR or ~/.cache/spinel/node). With the real
// spinel-server and spinel-agent (loopback, temp dirs), the tool runner runs as its registered
// uid; the client's X509-SVID and WIT-SVID + key come from `spinel-agent api fetch x509/wit
// --write` run as the model server's uid. The SDK connects over SPIFFE mTLS (the server checked
// by its SPIFFE ID), initializes (a session is issued), lists the tools and calls one with a
// new WPT on every request; the agent proves each request and decides the call: on behalf of
// nobody, the MCP tools are DENY ("requires a user"), as a tools/call result with isError; on
// behalf of alice (a token of a test user issuer, exchanged with `spinel-agent token exchange`
// for a delegation token the client sends as its bearer, bound by every WPT's "ath") the call
// is ALLOW, naming alice and the chain. A replayed WPT is refused with HTTP 400.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tests/integration/agent_process_util.h"
#include "tests/integration/user_issuer_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::CommandResult;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

constexpr int kModelUid = 4121;
constexpr int kToolUid = 4122;
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kTool[] = "spiffe://tools.ai.example.org/tool-runner";

std::string NodeDir() {
  if (const char* dir = std::getenv("SPINEL_NODE_DIR"); dir != nullptr && *dir != '\0') return dir;
  const char* cache = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  return cache != nullptr && *cache != '\0'
             ? std::string(cache) + "/spinel/node"
             : std::string(home ? home : "/root") + "/.cache/spinel/node";
}

std::string OwnedDir(const TempDir& dir, const std::string& name, int uid) {
  const std::string path = dir.File(name);
  REQUIRE(::mkdir(path.c_str(), 0755) == 0);
  REQUIRE(::chown(path.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid)) == 0);
  return path;
}

// The tool runner, as its uid, serving MCP; returns its port.
int StartToolRunner(const TempDir& dir, const AgentProcess& agent,
                    spinel::testing::ChildProcess& process) {
  const std::string run = OwnedDir(dir, "tool-runner", kToolUid);
  std::vector<std::string> argv = AgentProcess::AsUid(
      kToolUid, {"/usr/bin/env", "SPIFFE_ENDPOINT_SOCKET=unix://" + agent.socket_path(),
                 spinel::testing::BuildDir() + "/examples/spinel-example-tool-runner", "--timeout",
                 "60s", "--port-file", run + "/port"});
  spinel::testing::RequireOk(process.Start(argv, dir.File("tool-runner.log")));
  REQUIRE_MESSAGE(spinel::testing::WaitForFile(run + "/port", std::chrono::seconds(60)),
                  spinel::testing::ReadWholeFile(dir.File("tool-runner.log")));
  return std::stoi(spinel::testing::ReadWholeFile(run + "/port"));
}

// The model server's SVID files, as the node client reads them.
std::string ClientCredentials(const TempDir& dir, const AgentProcess& agent) {
  const std::string creds = OwnedDir(dir, "creds", kModelUid);
  CommandResult x509;
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        x509 = agent.Api("api fetch x509 --write " + ShellQuote(creds), kModelUid);
                        return x509.exit_code == 0;
                      },
                      std::chrono::seconds(30)),
                  x509.Describe());
  CommandResult wit = agent.Api("api fetch wit --write " + ShellQuote(creds), kModelUid);
  REQUIRE_MESSAGE(wit.exit_code == 0, wit.Describe());
  return creds;
}

// Runs the SDK client with the credentials in `creds` against `url`: its JSON output.
json RunSdkClient(const std::string& node_dir, const std::string& creds, const std::string& url,
                  const TempDir& dir, const AgentProcess& agent) {
  CommandResult client = spinel::testing::RunCommand(
      "/usr/bin/env node " +
      ShellQuote(spinel::testing::SourceDir() + "/tests/integration/mcp_client.mjs") + " " +
      ShellQuote(node_dir) + " " + ShellQuote(creds) + " " + ShellQuote(url) + " " + kTool +
      " search_docs 'query=rollback runbook'");
  const std::string log = spinel::testing::ReadWholeFile(dir.File("tool-runner.log"));
  REQUIRE_MESSAGE(client.exit_code == 0, client.Describe() << "\n" << log << agent.Log());
  return json::parse(client.out);
}

// alice's delegation token for the tool runner, exchanged by the model server with the CLI
// (the same WIT-SVID and key `api fetch wit` wrote: the agent keeps one until renewal).
void ExchangeForAlice(const spinel::testing::TestUserIssuer& idp, const std::string& creds,
                      const AgentProcess& agent) {
  const std::string user_file = creds + "/alice.jwt";
  std::ofstream(user_file) << idp.Token("alice") << "\n";
  REQUIRE(::chown(user_file.c_str(), kModelUid, kModelUid) == 0);
  CommandResult exchanged =
      agent.Api("token exchange --subject-token-file " + ShellQuote(user_file) + " --audience " +
                    std::string(kTool) + " --output json",
                kModelUid);
  REQUIRE_MESSAGE(exchanged.exit_code == 0, exchanged.Describe());
  std::ofstream(creds + "/delegation.jwt")
      << json::parse(exchanged.out)["access_token"].get<std::string>() << "\n";
}

}  // namespace

TEST_CASE("MCP: the official TypeScript SDK lists and calls tools with WIT + WPT, for a user") {
  const std::string node_dir = NodeDir();
  REQUIRE_MESSAGE(std::filesystem::exists(node_dir + "/node_modules/@modelcontextprotocol/sdk"),
                  "run scripts/setup.sh: no MCP SDK in " << node_dir);
  TempDir dir;
  const spinel::testing::TestUserIssuer idp;
  ServerProcess server(dir, idp.Zones(dir));
  auto [token, agent_id] = spinel::testing::StartServerForAgent(dir, server);
  spinel::testing::Register(server, kModel, agent_id, kModelUid);
  spinel::testing::Register(server, kTool, agent_id, kToolUid);
  AgentProcess agent(dir, server);
  agent.Start(token);
  spinel::testing::ChildProcess tool_runner;
  const int port = StartToolRunner(dir, agent, tool_runner);
  const std::string creds = ClientCredentials(dir, agent);
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/mcp";

  // On behalf of nobody: the MCP session works, the tool call is DENY (a user is required).
  json out = RunSdkClient(node_dir, creds, url, dir, agent);
  CHECK(out["server"]["name"] == "tool-runner");
  CHECK(out["session"] == "issued");
  CHECK(out["protocol"] == "2025-06-18");
  CHECK(out["tools"] ==
        json({"search_docs", "jira.create_ticket", "deploy.staging", "deploy.production"}));
  CHECK(out["call"]["isError"] == true);
  json verdict = out["call"]["structuredContent"];
  CHECK(verdict["verdict"] == "DENY");
  CHECK(verdict["subject"] == kModel);
  CHECK_MESSAGE(spinel::testing::Contains(verdict["reason"], "requires a user"), verdict.dump());
  // The replayed WPT: the SDK reports the server's HTTP 400 with its JSON-RPC error.
  CHECK_MESSAGE(spinel::testing::Contains(out["replay"], "WPT rejected: jti"), out.dump());

  // On behalf of alice: the delegation token rides along, bound by every WPT.
  ExchangeForAlice(idp, creds, agent);
  out = RunSdkClient(node_dir, creds, url, dir, agent);
  CHECK(out["call"]["isError"] == false);
  verdict = out["call"]["structuredContent"];
  CHECK(verdict["verdict"] == "ALLOW");
  CHECK(verdict["user"] == "alice");
  CHECK(verdict["actor_chain"] == json({kModel}));
  CHECK_MESSAGE(spinel::testing::Contains(out["replay"], "WPT rejected: jti"), out.dump());
  const std::string log = spinel::testing::ReadWholeFile(dir.File("tool-runner.log"));
  CHECK(spinel::testing::Contains(log, "search_docs on behalf of nobody: DENY"));
  CHECK(spinel::testing::Contains(log, "search_docs for alice via " + std::string(kModel)));
}
