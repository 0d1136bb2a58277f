// WIT-SVIDs end to end with the real spinel-server and spinel-agent (loopback, temp dirs):
//   1. `localauthority show` lists the zone's WIT key (kind "wit"), and the zone's published
//      bundle carries it as use "wit-svid";
//   2. an independent client (tests/integration/wit_client.py: Debian's python3-grpcio with stubs
//      generated from the spec proto, PyJWT, cryptography), running as the registered uid,
//      fetches a WIT-SVID and the WIT bundles, verifies the WIT-SVID with PyJWT against the
//      bundle's wit keys and signs a WPT with the private JWK; it also gets a WIT-SVID for a key
//      it keeps (spinel.v1.WitSvids with a key proof; the replayed proof is refused). Spinel's
//      WptVerifier, with the bundle the server publishes, accepts both WIT+WPT pairs;
//   3. `api fetch wit` (table, json, --write with the key file 0600, never the key on stdout)
//      and `wpt create` (its two header lines pass the WptVerifier; --ath binds the token);
//      bad flags exit 2; a uid without an entry is refused.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/bundle.h"
#include "common/wpt_verifier.h"
#include "tests/integration/agent_process_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::CommandResult;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

constexpr int kWorkloadUid = 4111;
constexpr int kStrangerUid = 4112;
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kTarget[] = "https://tools.example.org/mcp";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A directory `uid` owns, for files a workload writes.
std::string OwnedDir(const TempDir& dir, const std::string& name, int uid) {
  const std::string path = dir.File(name);
  REQUIRE(::mkdir(path.c_str(), 0700) == 0);
  REQUIRE(::chown(path.c_str(), static_cast<uid_t>(uid), static_cast<gid_t>(uid)) == 0);
  return path;
}

// The WIT-SVID keys of the server's bundles, parsed as any validator would.
spinel::common::BundleSet ServerBundles(const ServerProcess& server) {
  spinel::common::BundleSet set;
  for (const char* td :
       {"inference.ai.example.org", "retrieval.ai.example.org", "tools.ai.example.org"}) {
    CommandResult shown =
        server.Cli(std::string("bundle show --format spiffe --trust-domain ") + td);
    REQUIRE_MESSAGE(shown.exit_code == 0, shown.Describe());
    auto bundle = spinel::common::Bundle::Parse(*spinel::common::TrustDomain::Parse(td), shown.out);
    REQUIRE_MESSAGE(bundle.ok(), bundle.status().ToString() << "\n" << shown.out);
    REQUIRE(!bundle->wit_authorities.empty());
    REQUIRE(set.Put(*bundle).ok());
  }
  return set;
}

// Spinel's verifier on one presented pair.
absl::StatusOr<spinel::common::ProvenWorkload> VerifyPair(
    const spinel::common::BundleSet& bundles, const std::string& wit, const std::string& wpt,
    const std::optional<std::string>& access_token = std::nullopt) {
  static spinel::common::WptReplayCache replay;
  spinel::common::WptVerifier verifier(bundles, replay);
  spinel::common::WptRequest request{wit, wpt, kTarget, {}};
  request.tokens.access_token = access_token;
  return verifier.Verify(request, std::chrono::system_clock::now());
}

// Generates the Python stubs for the client into a directory the workload uid can read.
std::string PythonClient(const TempDir& dir) {
  const std::string stubs = OwnedDir(dir, "py", kWorkloadUid);
  const std::string source = spinel::testing::SourceDir();
  for (const std::string& file :
       {source + "/tests/agent/workload_api/workload_spec.proto",
        source + "/common/proto/wit_svids.proto", source + "/tests/integration/wit_client.py"}) {
    std::filesystem::copy_file(file, stubs + "/" + std::filesystem::path(file).filename().string());
  }
  CommandResult protoc = spinel::testing::RunCommand(
      "cd " + ShellQuote(stubs) +
      " && /usr/bin/protoc -I. -I/usr/include --python_out=. --grpc_python_out=. "
      "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin workload_spec.proto "
      "wit_svids.proto && chown -R " +
      std::to_string(kWorkloadUid) + " .");
  REQUIRE_MESSAGE(protoc.exit_code == 0, protoc.Describe());
  return stubs;
}

}  // namespace

TEST_CASE("WIT-SVIDs: server keys, an independent Python client, api fetch wit, wpt create") {
  TempDir dir;
  ServerProcess server(dir);
  auto [token, agent_id] = spinel::testing::StartServerForAgent(dir, server);
  spinel::testing::Register(server, kModel, agent_id, kWorkloadUid);
  AgentProcess agent(dir, server);
  agent.Start(token);

  // --- 1. the server's WIT keys -------------------------------------------------------------
  json authorities = ParseJsonOutput(
      server.Cli("localauthority show --trust-domain inference.ai.example.org --output json"));
  int active_wit = 0;
  for (const json& a : authorities["authorities"]) {
    if (a["kind"] == "wit" && a["state"] == "active") ++active_wit;
  }
  CHECK_MESSAGE(active_wit == 1, authorities.dump());
  CHECK(Contains(server.Cli("localauthority show --trust-domain inference.ai.example.org").out,
                 "wit"));
  const spinel::common::BundleSet bundles = ServerBundles(server);

  // --- 2. the independent client ------------------------------------------------------------
  const std::string stubs = PythonClient(dir);
  CommandResult client;
  const std::string command = "PYTHONDONTWRITEBYTECODE=1 /usr/bin/setpriv --reuid " +
                              std::to_string(kWorkloadUid) + " --regid " +
                              std::to_string(kWorkloadUid) + " --clear-groups /usr/bin/python3 " +
                              ShellQuote(stubs + "/wit_client.py") + " " + ShellQuote(stubs) + " " +
                              ShellQuote(agent.socket_path()) + " " + kTarget;
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        client = spinel::testing::RunCommand(command);
                        return client.exit_code == 0;
                      },
                      std::chrono::seconds(30)),
                  client.Describe() << agent.Log());
  json py = json::parse(client.out);
  CHECK(py["spiffe_id"] == kModel);
  CHECK(py["bundles"] ==
        json({"spiffe://inference.ai.example.org", "spiffe://retrieval.ai.example.org",
              "spiffe://tools.ai.example.org"}));
  auto proven = VerifyPair(bundles, py["wit"], py["wpt"]);
  REQUIRE_MESSAGE(proven.ok(), proven.status().ToString());
  CHECK(proven->subject.ToString() == kModel);
  CHECK(py["own_cnf_ok"] == true);
  CHECK(py["replay"] == "INVALID_ARGUMENT");
  auto own = VerifyPair(bundles, py["own_wit"], py["own_wpt"]);
  REQUIRE_MESSAGE(own.ok(), own.status().ToString());
  CHECK(own->subject.ToString() == kModel);
  // A WIT-SVID with a WPT made by another key (the agent-made WIT, the client's own key's WPT).
  CHECK_FALSE(VerifyPair(bundles, py["wit"], py["own_wpt"]).ok());

  // --- 3. the CLI -----------------------------------------------------------------------------
  CommandResult table = agent.Api("api fetch wit", kWorkloadUid);
  REQUIRE_MESSAGE(table.exit_code == 0, table.Describe());
  CHECK(Contains(table.out, kModel));
  CHECK(Contains(table.out, "WIT bundle: spiffe://inference.ai.example.org"));
  const std::string out_dir = OwnedDir(dir, "wit", kWorkloadUid);
  CommandResult written =
      agent.Api("api fetch wit --output json --write " + ShellQuote(out_dir), kWorkloadUid);
  REQUIRE_MESSAGE(written.exit_code == 0, written.Describe());
  CHECK_FALSE(Contains(written.out, "\"d\""));  // the private key never reaches stdout
  json fetched = json::parse(written.out.substr(0, written.out.rfind("Wrote ")));
  REQUIRE(fetched["svids"].size() == 1);
  CHECK(fetched["svids"][0]["spiffe_id"] == kModel);
  CHECK(fetched["svids"][0]["cnf_alg"] == "ES256");
  struct stat st {};
  REQUIRE(::stat((out_dir + "/wit_svid_key.jwk").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(Contains(spinel::testing::ReadWholeFile(out_dir + "/wit_svid_key.jwk"), "\"d\""));
  CHECK(spinel::testing::ReadWholeFile(out_dir + "/wit_svid.jwt") ==
        fetched["svids"][0]["wit_svid"].get<std::string>());
  json written_bundles = json::parse(spinel::testing::ReadWholeFile(out_dir + "/wit_bundles.json"));
  CHECK(written_bundles.contains("spiffe://inference.ai.example.org"));

  CommandResult headers =
      agent.Api(std::string("wpt create --aud ") + kTarget + " --ath access-token-1", kWorkloadUid);
  REQUIRE_MESSAGE(headers.exit_code == 0, headers.Describe());
  std::istringstream lines(headers.out);
  std::string wit_line, wpt_line;
  std::getline(lines, wit_line);
  std::getline(lines, wpt_line);
  REQUIRE(wit_line.rfind("Workload-Identity-Token: ", 0) == 0);
  REQUIRE(wpt_line.rfind("Workload-Proof-Token: ", 0) == 0);
  const std::string wit = wit_line.substr(std::string("Workload-Identity-Token: ").size());
  const std::string wpt = wpt_line.substr(std::string("Workload-Proof-Token: ").size());
  auto from_cli = VerifyPair(bundles, wit, wpt, std::string("access-token-1"));
  REQUIRE_MESSAGE(from_cli.ok(), from_cli.status().ToString());
  CHECK(from_cli->access_token_bound);
  CHECK_FALSE(VerifyPair(bundles, wit, wpt, std::string("access-token-1")).ok());  // replayed

  CommandResult bad_aud = agent.Api("wpt create --aud 'https://x.example/p?q=1'", kWorkloadUid);
  CHECK_MESSAGE(bad_aud.exit_code == 2, bad_aud.Describe());
  CommandResult bad_id = agent.Api("api fetch wit --spiffe-id nope", kWorkloadUid);
  CHECK_MESSAGE(bad_id.exit_code == 2, bad_id.Describe());
  CommandResult stranger = agent.Api("api fetch wit", kStrangerUid);
  CHECK_MESSAGE(stranger.exit_code == 1, stranger.Describe());
  CHECK(Contains(stranger.err, "PERMISSION_DENIED"));
  CHECK(agent.Log().find(py["wit"].get<std::string>()) == std::string::npos);
}
