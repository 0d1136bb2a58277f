// Zone peering proved with real TLS handshakes (issue 5, "Isolation"). With the four shipped
// zones (inference peers retrieval and tool-execution; training peers nobody), the real server
// and agent issue SVIDs to an inference, a retrieval and a training workload (told apart by
// uid); each fetches its files with `spinel-agent api fetch x509 --write DIR` (svid.pem,
// svid.key, bundle.pem = own + federated bundles). `openssl s_server` serves as the retrieval
// workload and demands a client certificate verified against retrieval's bundle.pem;
// `openssl s_client` connects as the others:
//   - inference -> retrieval: mutual TLS succeeds and data flows;
//   - training -> retrieval: the handshake fails: retrieval does not trust training's SVID
//     (server side), and training does not trust retrieval's (client side).
#include <doctest/doctest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "tests/integration/agent_process_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::ChildProcess;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::CountCertificates;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ReadWholeFile;
using spinel::testing::RequireOk;
using spinel::testing::RunCommand;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

struct Workload {
  std::string name;
  std::string spiffe_id;
  int uid;
};

const Workload kInference{"inference", "spiffe://inference.ai.example.org/model-server", 4201};
const Workload kRetrieval{"retrieval", "spiffe://retrieval.ai.example.org/retriever", 4202};
const Workload kTraining{"training", "spiffe://training.ai.example.org/trainer", 4203};

// Fetches `w`'s SVID files into <dir>/<name>/ as the workload's own uid; returns the JSON the
// fetch printed.
json FetchFiles(const TempDir& dir, const AgentProcess& agent, const Workload& w) {
  const std::string out = dir.File(w.name);
  REQUIRE(::mkdir(out.c_str(), 0700) == 0);
  REQUIRE(::chown(out.c_str(), static_cast<uid_t>(w.uid), static_cast<gid_t>(w.uid)) == 0);
  CommandResult fetched;
  bool ok = spinel::testing::WaitFor(
      [&] {
        fetched = agent.Api("api fetch x509 --output json --write " + ShellQuote(out), w.uid);
        return fetched.exit_code == 0;
      },
      std::chrono::seconds(30));
  REQUIRE_MESSAGE(ok, fetched.Describe() << agent.Log());
  // The JSON document comes first; the "Wrote ..." line follows it.
  const std::string text = fetched.out.substr(0, fetched.out.rfind("Wrote "));
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  REQUIRE_MESSAGE(!parsed.is_discarded(), fetched.Describe());
  REQUIRE(parsed["svids"].size() == 1);
  CHECK(parsed["svids"][0]["spiffe_id"] == w.spiffe_id);
  // Zone CAs are self-signed: the SVID file is the leaf alone (no -cert_chain needed below).
  CHECK(parsed["svids"][0]["chain_length"] == 1);
  return parsed;
}

// `openssl s_server` as `w` (its SVID, its bundle as the only trust), demanding and verifying a
// client certificate; answers HTTP with -www. Returns its port.
int StartTlsServer(const TempDir& dir, const Workload& w, ChildProcess& process,
                   const std::string& log) {
  const std::string files = dir.File(w.name);
  RequireOk(
      process.Start({"/usr/bin/openssl", "s_server", "-accept", "127.0.0.1:0", "-naccept", "4",
                     "-cert", files + "/svid.pem", "-key", files + "/svid.key", "-CAfile",
                     files + "/bundle.pem", "-Verify", "2", "-verify_return_error", "-www"},
                    log));
  std::smatch match;
  std::string text;
  const std::regex accept("ACCEPT 127\\.0\\.0\\.1:([0-9]+)");
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        text = ReadWholeFile(log);
                        return std::regex_search(text, match, accept);
                      },
                      std::chrono::seconds(10)),
                  text);
  return std::stoi(match[1]);
}

// `openssl s_client` as `w` sending one HTTP request; with `verify_server`, it verifies the
// server against `w`'s bundle.pem and gives up when that fails.
CommandResult Connect(const TempDir& dir, const Workload& w, int port, bool verify_server) {
  const std::string files = dir.File(w.name);
  std::string command =
      "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 20 openssl s_client -connect 127.0.0.1:" +
      std::to_string(port) + " -cert " + ShellQuote(files + "/svid.pem") + " -key " +
      ShellQuote(files + "/svid.key") + " -CAfile " + ShellQuote(files + "/bundle.pem") +
      " -ign_eof";
  if (verify_server) command += " -verify_return_error";
  return RunCommand(command);
}

}  // namespace

TEST_CASE("peering: mTLS between peered zones succeeds, non-peered zones fail the handshake") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  auto [token, agent_id] = spinel::testing::NewJoinToken(server);
  for (const Workload& w : {kInference, kRetrieval, kTraining}) {
    spinel::testing::Register(server, w.spiffe_id, agent_id, w.uid);
  }
  AgentProcess agent(dir, server);
  agent.Start(token);

  // Each workload's files: bundle.pem holds its own zone's bundle plus its peers'.
  json inference = FetchFiles(dir, agent, kInference);
  json retrieval = FetchFiles(dir, agent, kRetrieval);
  json training = FetchFiles(dir, agent, kTraining);
  CHECK(spinel::testing::Sorted(inference["federated_bundles"]) ==
        json({"spiffe://retrieval.ai.example.org", "spiffe://tools.ai.example.org"}));
  CHECK(retrieval["federated_bundles"] == json({"spiffe://inference.ai.example.org"}));
  CHECK(training["federated_bundles"] == json::array());
  CHECK(CountCertificates(dir.Read("inference/bundle.pem")) == 3);
  CHECK(CountCertificates(dir.Read("retrieval/bundle.pem")) == 2);
  CHECK(CountCertificates(dir.Read("training/bundle.pem")) == 1);

  // The files are usable as they are: each SVID verifies against its own bundle.pem.
  for (const Workload& w : {kInference, kRetrieval, kTraining}) {
    CommandResult verified = RunCommand("cd " + ShellQuote(dir.File(w.name)) +
                                        " && openssl verify -CAfile bundle.pem svid.pem");
    CHECK_MESSAGE(verified.exit_code == 0, w.name << ": " << verified.Describe());
  }

  const std::string server_log = dir.File("s_server.log");
  ChildProcess tls_server;
  const int port = StartTlsServer(dir, kRetrieval, tls_server, server_log);

  {  // inference -> retrieval: mutual TLS succeeds
    CommandResult connected = Connect(dir, kInference, port, /*verify_server=*/true);
    INFO(connected.Describe() << "\ns_server:\n" << ReadWholeFile(server_log));
    CHECK(Contains(connected.out, "Verify return code: 0 (ok)"));
    CHECK(Contains(connected.out, "HTTP/1.0 200 ok"));
    // s_server -www prints the client certificate it verified: inference's SVID.
    CHECK(Contains(connected.out, "Client certificate"));
    CHECK(Contains(connected.out, "URI:" + kInference.spiffe_id));
  }
  {  // training -> retrieval: retrieval refuses training's SVID at the handshake.
    // The client does not check the server here, so the refusal is retrieval's alone.
    CommandResult refused = Connect(dir, kTraining, port, /*verify_server=*/false);
    INFO(refused.Describe() << "\ns_server:\n" << ReadWholeFile(server_log));
    CHECK_FALSE(Contains(refused.out, "HTTP/1.0 200 ok"));
    CHECK(spinel::testing::WaitFor(
        [&] {
          std::string log = ReadWholeFile(server_log);
          return Contains(log, "unable to get local issuer certificate") ||
                 Contains(log, "certificate verify failed");
        },
        std::chrono::seconds(10)));
  }
  {  // training -> retrieval: training cannot verify retrieval either
    CommandResult refused = Connect(dir, kTraining, port, /*verify_server=*/true);
    INFO(refused.Describe() << "\ns_server:\n" << ReadWholeFile(server_log));
    CHECK(refused.exit_code != 0);
    CHECK_FALSE(Contains(refused.out, "HTTP/1.0 200 ok"));
    CHECK(Contains(refused.err, "certificate verify failed"));
  }
  tls_server.Kill(SIGKILL);
}
