// Bad input on the command line (issue 7, "Bad input"): every spinel-server and spinel-agent
// command that takes a SPIFFE ID, a trust domain or a selector is given invalid ones, against a
// running real server and agent. Each must exit 2 (docs/cli.md: bad usage, reported before
// anything is done) with "error: <flag>: <what is wrong>" on stderr; afterwards the server and
// agent are still healthy and nothing changed: entries, agents, bundles, authorities and the
// audit log are exactly as before.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/integration/agent_process_util.h"
#include "tests/integration/process_util.h"

using spinel::testing::AgentProcess;
using spinel::testing::CommandResult;
using spinel::testing::NewJoinToken;
using spinel::testing::ParseJsonOutput;
using spinel::testing::Register;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

constexpr char kGoodId[] = "spiffe://inference.ai.example.org/bad-input/ok";

// Invalid SPIFFE IDs, one per rule of the SPIFFE ID spec (shared/spec/spiffeid_cases.md).
std::vector<std::string> BadIds() {
  return {
      "",                                                             // empty
      "inference.ai.example.org/x",                                   // no scheme
      "https://inference.ai.example.org/x",                           // wrong scheme
      "SPIFFE://inference.ai.example.org/x",                          // scheme is case-sensitive
      "spiffe:///x",                                                  // no trust domain
      "spiffe://Inference.ai.example.org/x",                          // upper-case trust domain
      "spiffe://inference.ai.example.org:8080/x",                     // port
      "spiffe://user@inference.ai.example.org/x",                     // userinfo
      "spiffe://inference.ai.example.org/a//b",                       // empty segment
      "spiffe://inference.ai.example.org/a/../b",                     // dot segment
      "spiffe://inference.ai.example.org/x/",                         // trailing slash
      "spiffe://inference.ai.example.org/x?q=1",                      // query
      "spiffe://inference.ai.example.org/x#f",                        // fragment
      "spiffe://inference.ai.example.org/x y",                        // space
      "spiffe://inference.ai.example.org/\xc3\xa9",                   // non-ASCII
      "spiffe://inference.ai.example.org/" + std::string(2100, 'a'),  // too long
  };
}

std::vector<std::string> BadSelectors() {
  return {"",
          "unix",
          "unix:",
          ":uid:0",
          "Unix:uid:0",
          "unix:uid: 0",
          "unix:uid:\t0",
          "un ix:uid:0",
          std::string("unix:uid:\x01", 10)};
}

std::vector<std::string> BadTrustDomains() {
  return {"",
          "spiffe://inference.ai.example.org",
          "Inference.ai.example.org",
          "inference.ai.example.org/x",
          "bad_td!",
          "td with space",
          std::string(300, 'a')};
}

struct Snapshot {
  std::string entries, agents, bundles, audit, authorities;
  bool operator==(const Snapshot&) const = default;
};

// Everything an operator command could change.
Snapshot Take(const ServerProcess& server) {
  auto out = [&](const std::string& args) {
    CommandResult r = server.Cli(args);
    REQUIRE_MESSAGE(r.exit_code == 0, args << "\n" << r.Describe());
    return r.out;
  };
  Snapshot s;
  s.entries = out("entry show --output json");
  s.agents = out("agent list --output json");
  s.bundles = out("bundle list --output json");
  s.audit = out("audit list --output json");
  for (const char* td : {"inference.ai.example.org", "training.ai.example.org"}) {
    s.authorities +=
        out(std::string("localauthority show --trust-domain ") + td + " --output json");
  }
  return s;
}

// Runs `args` (with `value` substituted for {}) and checks exit 2 and a message naming `flag`.
void ExpectUsageError(const std::function<CommandResult(const std::string&)>& run,
                      const std::string& args, const std::string& flag, const std::string& value,
                      int* cases) {
  std::string command = args;
  const size_t at = command.find("{}");
  REQUIRE(at != std::string::npos);
  command.replace(at, 2, ShellQuote(value));
  CAPTURE(command);
  CommandResult r = run(command);
  ++*cases;
  CHECK_MESSAGE(r.exit_code == 2, r.Describe());
  CHECK_MESSAGE(r.err.find("error: ") != std::string::npos, r.Describe());
  CHECK_MESSAGE(r.err.find(flag) != std::string::npos, r.Describe());
  // The message says more than the flag: what is wrong with the value.
  CHECK_MESSAGE(r.err.size() > flag.size() + 16, r.Describe());
  CHECK_MESSAGE(r.out.empty(), r.Describe());
}

}  // namespace

TEST_CASE("every CLI command refuses invalid SPIFFE IDs, trust domains and selectors") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  auto [token, agent_id] = NewJoinToken(server);
  AgentProcess agent(dir, server);
  agent.Start(token);
  Register(server, kGoodId, agent_id, 0);
  const Snapshot before = Take(server);

  auto server_cli = [&](const std::string& args) { return server.Cli(args); };
  auto agent_cli = [&](const std::string& args) { return agent.Api(args); };
  const std::string good = ShellQuote(kGoodId);
  const std::string parent = ShellQuote(agent_id);
  int cases = 0;

  const std::vector<std::pair<std::string, std::string>> id_commands = {
      {"entry create --spiffe-id {} --parent-id " + parent + " --selector unix:uid:1",
       "--spiffe-id"},
      {"entry create --spiffe-id " + good + " --parent-id {} --selector unix:uid:1", "--parent-id"},
      {"entry show --spiffe-id {}", "--spiffe-id"},
      {"entry show --parent-id {}", "--parent-id"},
      {"entry count --spiffe-id {}", "--spiffe-id"},
      {"entry count --parent-id {}", "--parent-id"},
      {"entry update --id no-such-entry --spiffe-id {}", "--spiffe-id"},
      {"entry update --id no-such-entry --parent-id {}", "--parent-id"},
      {"agent show --spiffe-id {}", "--spiffe-id"},
      {"agent evict --spiffe-id {}", "--spiffe-id"},
      {"agent ban --spiffe-id {}", "--spiffe-id"},
      {"x509 mint --spiffe-id {}", "--spiffe-id"},
      {"jwt mint --audience a --spiffe-id {}", "--spiffe-id"},
  };
  for (const auto& [args, flag] : id_commands) {
    for (const std::string& bad : BadIds()) ExpectUsageError(server_cli, args, flag, bad, &cases);
  }
  for (const std::string& bad : BadIds()) {
    if (bad.empty()) continue;  // an empty --spiffe-id means "any identity" here
    ExpectUsageError(agent_cli, "api fetch jwt --audience a --spiffe-id {}", "--spiffe-id", bad,
                     &cases);
  }

  const std::vector<std::string> selector_commands = {
      "entry create --spiffe-id " + good + " --parent-id " + parent + " --selector {}",
      "entry create --spiffe-id " + good + " --parent-id " + parent +
          " --selector unix:uid:1 --selector {}",
      "entry update --id no-such-entry --selector {}",
  };
  for (const std::string& args : selector_commands) {
    for (const std::string& bad : BadSelectors()) {
      ExpectUsageError(server_cli, args, "--selector", bad, &cases);
    }
  }

  const std::vector<std::string> td_commands = {
      "bundle show --trust-domain {}",
      "localauthority show --trust-domain {}",
      "localauthority prepare --trust-domain {}",
      "localauthority activate --trust-domain {}",
  };
  for (const std::string& args : td_commands) {
    for (const std::string& bad : BadTrustDomains()) {
      ExpectUsageError(server_cli, args, "--trust-domain", bad, &cases);
    }
  }
  for (const std::string& bad : {std::string(".."), std::string("a/b"), std::string("x y")}) {
    ExpectUsageError(server_cli, "token generate --agent-path {}", "--agent-path", bad, &cases);
  }
  for (const std::string& bad : {std::string(""), std::string(2000, 'a')}) {
    ExpectUsageError(agent_cli, "api fetch jwt --spiffe-id " + good + " --audience {}",
                     "--audience", bad, &cases);
  }
  MESSAGE(cases << " invalid command lines refused with exit 2");

  // A relative --socket is a path, not a gRPC authority ("unix://sock/..." named a host).
  CommandResult relative = spinel::testing::RunCommand("cd " + ShellQuote(dir.path()) + " && " +
                                                       ShellQuote(agent.binary()) +
                                                       " healthcheck --socket sock/workload.sock");
  CHECK_MESSAGE(relative.exit_code == 0, relative.Describe());

  CHECK(server.Cli("healthcheck").exit_code == 0);
  CHECK(agent.Api("healthcheck").exit_code == 0);
  CHECK(Take(server) == before);
  // The agent still serves the registered identity.
  nlohmann::json svids = ParseJsonOutput(agent.Api("api fetch jwt --audience a --output json"));
  REQUIRE(svids["svids"].size() == 1);
  CHECK(svids["svids"][0]["spiffe_id"] == kGoodId);
}
