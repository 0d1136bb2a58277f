// Integration tests of trust zones as operators see them, with the real spinel-server binary:
// `zone validate` offline, `zone list|show|reload` and SIGHUP on a running server whose zones
// directory (a copy of the shipped zones) the test edits, and node placement: `entry create`
// under an agent whose node lacks a zone's `nodes` selectors is refused.
#include <doctest/doctest.h>
#include <signal.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/process_util.h"

using nlohmann::json;
using spinel::testing::ChildProcess;
using spinel::testing::CommandResult;
using spinel::testing::ReadWholeFile;
using spinel::testing::RequireOk;
using spinel::testing::RunCommand;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::SourceDir;
using spinel::testing::TempDir;
using spinel::testing::WaitFor;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string ShippedZones() { return SourceDir() + "/trust-zones/zones"; }

// Copies the shipped zones to <dir>/zones and returns that path.
std::string CopyZones(const TempDir& dir) {
  std::filesystem::copy(ShippedZones(), dir.File("zones"));
  return dir.File("zones");
}

// Replaces the first `from` in `path` by `to`; returns the 1-based line of the change.
int Edit(const std::string& path, const std::string& from, const std::string& to) {
  std::string text = ReadWholeFile(path);
  const size_t at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, from);
  text.replace(at, from.size(), to);
  std::ofstream(path, std::ios::trunc) << text;
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

CommandResult Validate(const std::string& dir) {
  return RunCommand(ShellQuote(spinel::testing::BuildDir() + "/server/spinel-server") +
                    " zone validate " + ShellQuote(dir));
}

json ParseJsonOutput(const CommandResult& result) {
  REQUIRE_MESSAGE(result.exit_code == 0, result.Describe());
  json parsed = json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE_MESSAGE(!parsed.is_discarded(), result.Describe());
  return parsed;
}

// Starts a spinel-agent (files in `dir`) that attests to `server` with a new join token, and
// waits until the server lists it; returns the agent's SPIFFE ID.
std::string StartAgent(const TempDir& dir, const ServerProcess& server, ChildProcess& agent) {
  json token = ParseJsonOutput(server.Cli("token generate --ttl 10m --output json"));
  const std::string agent_id = token["agent_spiffe_id"].get<std::string>();
  CommandResult bundle =
      server.Cli("bundle show --trust-domain " + std::string(spinel::testing::kTestControlTd));
  REQUIRE_MESSAGE(bundle.exit_code == 0, bundle.Describe());
  dir.Write("bootstrap.pem", bundle.out);
  std::string address = ReadWholeFile(server.data_dir() + "/agent-api.addr");
  address.erase(address.find_last_not_of("\n") + 1);
  dir.Write("agent.yaml", "trust_domain: " + std::string(spinel::testing::kTestControlTd) +
                              "\nserver_address: " + address + "\ntrust_bundle: " +
                              dir.File("bootstrap.pem") + "\ndata_dir: " + dir.File("agent-data") +
                              "\nsocket_path: " + dir.File("workload.sock") + "\n");
  RequireOk(agent.Start({spinel::testing::BuildDir() + "/agent/spinel-agent", "run", "--config",
                         dir.File("agent.yaml"), "--join-token", token["token"].get<std::string>()},
                        dir.File("agent.log")));
  const bool attested = WaitFor([&] {
    REQUIRE_MESSAGE(agent.Running(), "spinel-agent exited:\n"
                                         << ReadWholeFile(dir.File("agent.log")));
    return Contains(server.Cli("agent list --output json").out, agent_id);
  });
  REQUIRE_MESSAGE(attested, ReadWholeFile(dir.File("agent.log")));
  return agent_id;
}

json ShowZone(const ServerProcess& server, const std::string& name) {
  return ParseJsonOutput(server.Cli("zone show " + name + " --output json"));
}

}  // namespace

TEST_CASE("zone validate: the shipped zones pass; a broken copy names file and line") {
  CommandResult good = Validate(ShippedZones());
  REQUIRE_MESSAGE(good.exit_code == 0, good.Describe());
  CHECK(good.out == "4 zones OK: inference, retrieval, tool-execution, training\n");

  TempDir dir;
  const std::string zones = CopyZones(dir);
  const int line = Edit(zones + "/training.yaml", "actions: [read, list]", "actions: [read, fly]");
  CommandResult broken = Validate(zones);
  CHECK(broken.exit_code == 2);
  CHECK(broken.out.empty());
  CHECK_MESSAGE(Contains(broken.err, "training.yaml:" + std::to_string(line) + ":"),
                broken.Describe());
  CHECK(Contains(broken.err, "fly"));

  // No zone names training as a peer, so removing its file leaves a valid directory.
  std::filesystem::remove(zones + "/training.yaml");
  CommandResult three = Validate(zones);
  REQUIRE_MESSAGE(three.exit_code == 0, three.Describe());
  CHECK(three.out == "3 zones OK: inference, retrieval, tool-execution\n");
  std::filesystem::remove(zones + "/retrieval.yaml");  // inference names it as a peer
  CommandResult unknown_peer = Validate(zones);
  CHECK(unknown_peer.exit_code == 2);
  CHECK(Contains(unknown_peer.err, "inference.yaml:"));
  CHECK(Contains(unknown_peer.err, "retrieval"));

  CHECK(Validate(dir.File("no-such-dir")).exit_code == 2);

  // With --config, also the checks against that server's configuration.
  dir.Write("server.yaml",
            "trust_domain: training.ai.example.org\ndata_dir: data\n"
            "zones_dir: zones\n");
  CommandResult clash = RunCommand(
      ShellQuote(spinel::testing::BuildDir() + "/server/spinel-server") + " zone validate " +
      ShellQuote(ShippedZones()) + " --config " + ShellQuote(dir.File("server.yaml")));
  CHECK(clash.exit_code == 2);
  CHECK_MESSAGE(Contains(clash.err, "training.yaml:"), clash.Describe());
  CHECK(Contains(clash.err, "control-plane trust domain"));
}

TEST_CASE("zone list, show and reload on a running server; invalid edits change nothing") {
  TempDir dir;
  const std::string zones = CopyZones(dir);
  ServerProcess server(dir, zones);
  server.Start();

  CommandResult list = server.Cli("zone list");
  REQUIRE_MESSAGE(list.exit_code == 0, list.Describe());
  CHECK(Contains(list.out, "NAME"));
  CHECK(Contains(list.out, "tools.ai.example.org"));
  CHECK(Contains(list.out, "5m/15m"));  // tool-execution's X.509 default/max
  CHECK(ParseJsonOutput(server.Cli("zone list --output json"))["zones"].size() == 4);

  CommandResult show = server.Cli("zone show training");
  REQUIRE_MESSAGE(show.exit_code == 0, show.Describe());
  CHECK(Contains(show.out, "training.ai.example.org"));
  CHECK(Contains(show.out, "training/no-tools"));
  CHECK(Contains(show.out, "deny tool:**"));
  CHECK(Contains(show.out, "active"));
  CommandResult missing = server.Cli("zone show finance");
  CHECK(missing.exit_code == 1);
  CHECK(Contains(missing.err, "NOT_FOUND"));
  CHECK(Contains(missing.err, "\"finance\""));

  // A valid edit: a new peer and a new rule.
  const std::string training = zones + "/training.yaml";
  Edit(training, "peers: []", "peers: [retrieval]");
  Edit(training, "resources:\n",
       "resources:\n  - name: read-docs\n    resource: \"dataset:docs/**\"\n"
       "    actions: [read]\n");
  CommandResult reload = server.Cli("zone reload");
  REQUIRE_MESSAGE(reload.exit_code == 0, reload.Describe());
  CHECK(Contains(reload.out, "retrieval, training"));
  json shown = ShowZone(server, "training");
  CHECK(shown["peers"] == json{"retrieval"});
  CHECK(shown["rules"][0]["id"] == "training/read-docs");
  CHECK(ShowZone(server, "retrieval")["peers"] == json{"inference", "training"});

  // An invalid edit together with a valid one: refused whole.
  Edit(training, "peers: [retrieval]", "peers: [retrieval, inference]");
  const int line = Edit(training, "actions: [read]\n", "actions: [read, fly]\n");
  CommandResult refused = server.Cli("zone reload");
  CHECK(refused.exit_code == 1);
  CHECK(Contains(refused.err, "INVALID_ARGUMENT"));
  CHECK_MESSAGE(Contains(refused.err, "training.yaml:" + std::to_string(line) + ":"),
                refused.Describe());
  CHECK(ShowZone(server, "training")["peers"] == json{"retrieval"});

  // SIGHUP takes the same path: fixed, it is applied...
  Edit(training, "actions: [read, fly]\n", "actions: [read]\n");
  server.Signal(SIGHUP);
  CHECK_MESSAGE(WaitFor([&] {
                  return ShowZone(server, "training")["peers"] == json{"inference", "retrieval"};
                }),
                server.Log());
  // ...and broken again, it is refused and logged; the server keeps serving the old zones.
  Edit(training, "x509_svid_ttl: {default: 1h, max: 4h}", "x509_svid_ttl: {default: 1h, max: 4}");
  server.Signal(SIGHUP);
  CHECK(WaitFor([&] { return Contains(server.Log(), "zone reload (SIGHUP) refused"); }));
  CHECK(Contains(server.Log(), "training.yaml:"));
  CHECK(ShowZone(server, "training")["x509_svid_ttl"]["max_seconds"] == 4 * 3600);
  CHECK(server.Cli("healthcheck").exit_code == 0);
}

TEST_CASE("placement: entry create under an agent lacking a zone's node selectors is refused") {
  TempDir dir;
  const std::string zones = CopyZones(dir);
  dir.Write("zones/gpu.yaml",
            "name: gpu\ntrust_domain: gpu.ai.example.org\nx509_svid_ttl: 1h\n"
            "jwt_svid_ttl: 5m\nca_ttl: 2h\nnodes: [x509pop:subject:ou:gpu-training]\n");
  ServerProcess server(dir, zones);
  server.Start();
  json gpu = ShowZone(server, "gpu");
  CHECK(gpu["nodes"] == json{"x509pop:subject:ou:gpu-training"});
  CHECK(Contains(server.Cli("zone show gpu").out, "x509pop:subject:ou:gpu-training"));

  ChildProcess agent;
  const std::string agent_id = StartAgent(dir, server, agent);  // join_token: no x509pop selectors

  CommandResult refused = server.Cli(
      "entry create --spiffe-id spiffe://gpu.ai.example.org/trainer"
      " --parent-id " +
      ShellQuote(agent_id) + " --selector unix:uid:1000");
  CHECK(refused.exit_code == 1);
  CHECK_MESSAGE(Contains(refused.err, "FAILED_PRECONDITION"), refused.Describe());
  CHECK(Contains(refused.err, "may not host zone \"gpu\""));
  CHECK(ShowZone(server, "gpu")["entries"] == 0);

  // A zone without node selectors may be hosted by any agent.
  CommandResult accepted =
      server.Cli("entry create --spiffe-id spiffe://inference.ai.example.org/model --parent-id " +
                 ShellQuote(agent_id) + " --selector unix:uid:1000");
  CHECK_MESSAGE(accepted.exit_code == 0, accepted.Describe());
  CHECK(ShowZone(server, "inference")["entries"] == 1);
}
