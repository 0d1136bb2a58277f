// Federation between two independent Spinel deployments (issue 9), with real processes only.
// Deployment A (zones inference.a.test, which federates with tools.b.test, and training.a.test,
// which does not) and deployment B (zone tools.b.test, which federates with inference.a.test)
// each run a spinel-server (own data directory, own zone files, own bundle endpoint, profile
// https_spiffe) and a spinel-agent. Each server gets a federation relationship with the other
// zone's trust domain (`federation create` with the other's bundle from `bundle show`), so each
// agent delivers the foreign bundle to the workloads of the federating zone:
//   - A's inference workload and B's tools workload complete mutual TLS (openssl s_client /
//     s_server) using only the files their agents gave them (`api fetch x509 --write`);
//   - A's training workload never receives B's bundle;
//   - after `federation delete` on B, B's agent drops A's bundle and the next handshake from
//     A's workload is refused by B's workload.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/integration/agent_process_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::ChildProcess;
using spinel::testing::CommandResult;
using spinel::testing::CountCertificates;
using spinel::testing::ReadWholeFile;
using spinel::testing::RequireOk;
using spinel::testing::RunCommand;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;
using spinel::testing::TrimLine;
using spinel::testing::WaitFor;

namespace {

constexpr char kTdA[] = "inference.a.test";
constexpr char kTdB[] = "tools.b.test";

struct Workload {
  std::string name;
  std::string spiffe_id;
  int uid;
};

const Workload kModel{"model", "spiffe://inference.a.test/model-server", 4311};
const Workload kTrainer{"trainer", "spiffe://training.a.test/trainer", 4312};
const Workload kTool{"tool", "spiffe://tools.b.test/tool-runner", 4321};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string ZoneFile(const std::string& name, const std::string& td,
                     const std::string& federates_with) {
  return "name: " + name + "\ntrust_domain: " + td +
         "\nx509_svid_ttl: {default: 1h, max: 2h}\njwt_svid_ttl: 5m\nca_ttl: 24h\n" +
         (federates_with.empty() ? "" : "federates_with: [" + federates_with + "]\n");
}

// A server in `dir` with the zone files `zones` (file name -> text) and a bundle endpoint
// (https_spiffe, any free port) for zone `endpoint_zone`.
std::unique_ptr<ServerProcess> MakeServer(const TempDir& dir,
                                          const std::map<std::string, std::string>& zones,
                                          const std::string& endpoint_zone) {
  REQUIRE(::mkdir(dir.File("zones").c_str(), 0755) == 0);
  for (const auto& [file, text] : zones) dir.Write("zones/" + file, text);
  auto server = std::make_unique<ServerProcess>(dir, dir.File("zones"));
  std::ofstream config(dir.File("server.yaml"), std::ios::app);
  config << "federation:\n  bundle_endpoints:\n    - zone: " << endpoint_zone
         << "\n      address: 127.0.0.1:0\n      profile: https_spiffe\n";
  REQUIRE(config.good());
  return server;
}

// `server`'s bundle endpoint URL for `zone` (from the address file it writes).
std::string EndpointUrl(const ServerProcess& server, const std::string& zone) {
  const std::string file = server.data_dir() + "/bundle-endpoint-" + zone + ".addr";
  REQUIRE_MESSAGE(spinel::testing::WaitForFile(file), server.Log());
  return "https://" + TrimLine(ReadWholeFile(file)) + "/";
}

// Creates on `local` a federation relationship with `remote`'s zone trust domain `td`,
// starting from the bundle `remote` shows for it.
void Federate(const TempDir& local_dir, const ServerProcess& local, const ServerProcess& remote,
              const std::string& td, const std::string& zone) {
  CommandResult bundle = remote.Cli("bundle show --trust-domain " + td + " --format spiffe");
  REQUIRE_MESSAGE(bundle.exit_code == 0, bundle.Describe());
  local_dir.Write(td + ".bundle.json", bundle.out);
  CommandResult created = local.Cli(
      "federation create --trust-domain " + td + " --endpoint-url " +
      ShellQuote(EndpointUrl(remote, zone)) + " --profile https_spiffe --endpoint-spiffe-id " +
      ShellQuote("spiffe://" + td + "/spinel/bundle-endpoint") + " --bundle-file " +
      ShellQuote(local_dir.File(td + ".bundle.json")));
  REQUIRE_MESSAGE(created.exit_code == 0, created.Describe() << local.Log());
}

// Fetches `w`'s SVID files into <dir>/<subdir>/ as the workload's uid once its
// federated_bundles are `federated` (waits for the agent to get there); returns the JSON.
json FetchFiles(const TempDir& dir, const AgentProcess& agent, const Workload& w,
                const std::string& subdir, const json& federated) {
  const std::string out = dir.File(subdir);
  REQUIRE(::mkdir(out.c_str(), 0700) == 0);
  REQUIRE(::chown(out.c_str(), static_cast<uid_t>(w.uid), static_cast<gid_t>(w.uid)) == 0);
  CommandResult fetched;
  json parsed;
  bool ok = WaitFor(
      [&] {
        fetched = agent.Api("api fetch x509 --output json --write " + ShellQuote(out), w.uid);
        if (fetched.exit_code != 0) return false;
        parsed = json::parse(fetched.out.substr(0, fetched.out.rfind("Wrote ")), nullptr, false);
        return !parsed.is_discarded() && parsed["svids"].size() == 1 &&
               spinel::testing::Sorted(parsed["federated_bundles"]) == federated;
      },
      std::chrono::seconds(30));
  REQUIRE_MESSAGE(ok, w.name << ": " << fetched.Describe() << agent.Log());
  CHECK(parsed["svids"][0]["spiffe_id"] == w.spiffe_id);
  return parsed;
}

// `openssl s_server` with the files in `files` (SVID, key, bundle.pem as the only trust),
// demanding and verifying a client certificate; returns its port.
int StartTlsServer(const std::string& files, ChildProcess& process, const std::string& log) {
  RequireOk(
      process.Start({"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "2",
                     "-cert", files + "/svid.pem", "-key", files + "/svid.key", "-CAfile",
                     files + "/bundle.pem", "-Verify", "2", "-verify_return_error", "-www"},
                    log));
  std::smatch match;
  std::string text;
  const std::regex accept("ACCEPT 127\\.0\\.0\\.1:([0-9]+)");
  REQUIRE_MESSAGE(WaitFor(
                      [&] {
                        text = ReadWholeFile(log);
                        return std::regex_search(text, match, accept);
                      },
                      std::chrono::seconds(10)),
                  text);
  return std::stoi(match[1]);
}

// `openssl s_client` with the files in `files`, verifying the server against its bundle.pem.
CommandResult Connect(const std::string& files, int port) {
  return RunCommand(
      "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 20 openssl s_client -connect 127.0.0.1:" +
      std::to_string(port) + " -cert " + ShellQuote(files + "/svid.pem") + " -key " +
      ShellQuote(files + "/svid.key") + " -CAfile " + ShellQuote(files + "/bundle.pem") +
      " -ign_eof -verify_return_error");
}

}  // namespace

TEST_CASE("federation: two deployments' workloads do mTLS until the relationship is deleted") {
  TempDir dir_a;
  TempDir dir_b;
  auto server_a = MakeServer(dir_a,
                             {{"inference.yaml", ZoneFile("inference", kTdA, kTdB)},
                              {"training.yaml", ZoneFile("training", "training.a.test", "")}},
                             "inference");
  auto server_b = MakeServer(dir_b, {{"tools.yaml", ZoneFile("tools", kTdB, kTdA)}}, "tools");
  server_a->Start();
  server_b->Start();
  Federate(dir_a, *server_a, *server_b, kTdB, "tools");
  Federate(dir_b, *server_b, *server_a, kTdA, "inference");

  auto [token_a, agent_a_id] = spinel::testing::NewJoinToken(*server_a);
  auto [token_b, agent_b_id] = spinel::testing::NewJoinToken(*server_b);
  spinel::testing::Register(*server_a, kModel.spiffe_id, agent_a_id, kModel.uid);
  spinel::testing::Register(*server_a, kTrainer.spiffe_id, agent_a_id, kTrainer.uid);
  spinel::testing::Register(*server_b, kTool.spiffe_id, agent_b_id, kTool.uid);
  AgentProcess agent_a(dir_a, *server_a);
  AgentProcess agent_b(dir_b, *server_b);
  agent_a.Start(token_a);
  agent_b.Start(token_b);

  // Each federating workload's bundle.pem: its own zone's CA and the foreign one.
  FetchFiles(dir_a, agent_a, kModel, "model", json({"spiffe://tools.b.test"}));
  FetchFiles(dir_b, agent_b, kTool, "tool", json({"spiffe://inference.a.test"}));
  FetchFiles(dir_a, agent_a, kTrainer, "trainer", json::array());
  CHECK(CountCertificates(dir_a.Read("model/bundle.pem")) == 2);
  CHECK(CountCertificates(dir_b.Read("tool/bundle.pem")) == 2);
  CHECK(CountCertificates(dir_a.Read("trainer/bundle.pem")) == 1);

  {  // A's model server -> B's tool runner: mutual TLS with Workload API material only.
    const std::string log = dir_b.File("s_server.log");
    ChildProcess tls_server;
    const int port = StartTlsServer(dir_b.File("tool"), tls_server, log);
    CommandResult connected = Connect(dir_a.File("model"), port);
    INFO(connected.Describe() << "\ns_server:\n" << ReadWholeFile(log));
    CHECK(Contains(connected.out, "Verify return code: 0 (ok)"));
    CHECK(Contains(connected.out, "HTTP/1.0 200 ok"));
    CHECK(Contains(connected.out, "URI:" + kModel.spiffe_id));  // B verified A's SVID
    tls_server.Kill(SIGKILL);
  }

  // B ends the relationship: its stored bundle of A goes, and its agent stops serving it.
  CommandResult deleted = server_b->Cli(std::string("federation delete --trust-domain ") + kTdA);
  REQUIRE_MESSAGE(deleted.exit_code == 0, deleted.Describe());
  FetchFiles(dir_b, agent_b, kTool, "tool-after", json::array());
  CHECK(CountCertificates(dir_b.Read("tool-after/bundle.pem")) == 1);

  {  // The next handshake: B's tool runner no longer accepts A's SVID.
    const std::string log = dir_b.File("s_server-after.log");
    ChildProcess tls_server;
    const int port = StartTlsServer(dir_b.File("tool-after"), tls_server, log);
    CommandResult refused = Connect(dir_a.File("model"), port);
    INFO(refused.Describe() << "\ns_server:\n" << ReadWholeFile(log));
    CHECK_FALSE(Contains(refused.out, "HTTP/1.0 200 ok"));
    CHECK(WaitFor(
        [&] {
          const std::string text = ReadWholeFile(log);
          return Contains(text, "unable to get local issuer certificate") ||
                 Contains(text, "certificate verify failed");
        },
        std::chrono::seconds(10)));
    tls_server.Kill(SIGKILL);
  }
}
