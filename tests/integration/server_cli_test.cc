// Integration tests of the real spinel-server binary driven by its own operator CLI
// (server/cli/): entry CRUD, bad input, join tokens, bundles, minting, forced rotation and
// durability across kill -9. Each test case runs its own server in a temp directory.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tests/integration/agent_process_util.h"

using nlohmann::json;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::CountCertificates;
using spinel::testing::ParseJsonOutput;
using spinel::testing::RunCommand;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

constexpr char kAgent[] = "spiffe://control.spinel.test/spinel/agent/join_token/node-1";
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kRunner[] = "spiffe://tools.ai.example.org/runner";

int64_t Count(const ServerProcess& server) {
  return ParseJsonOutput(server.Cli("entry count --output json"))["count"].get<int64_t>();
}

std::string CreateArgs(const std::string& spiffe_id, const std::string& extra = "") {
  return "entry create --spiffe-id " + ShellQuote(spiffe_id) + " --parent-id " + kAgent +
         " --selector unix:uid:1000 " + extra;
}

// The state of every authority of `kind` in `localauthority show --output json`.
std::multiset<std::string> States(const ServerProcess& server, const std::string& kind) {
  json shown = ParseJsonOutput(
      server.Cli("localauthority show --trust-domain inference.ai.example.org --output json"));
  std::multiset<std::string> states;
  for (const json& a : shown["authorities"]) {
    if (a["kind"] == kind) states.insert(a["state"].get<std::string>());
  }
  return states;
}

}  // namespace

TEST_CASE("server cli: entry create, show, update, count and delete round trip") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();

  json created = ParseJsonOutput(
      server.Cli(CreateArgs(kModel,
                            "--selector unix:gid:1000 --x509-ttl 30m --dns model.example.org "
                            "--output json")));
  REQUIRE(created["results"][0]["status"] == "created");
  const std::string id = created["results"][0]["entry"]["id"];

  json shown = ParseJsonOutput(server.Cli("entry show --id " + id + " --output json"));
  REQUIRE(shown["entries"].size() == 1);
  CHECK(shown["entries"][0]["x509_svid_ttl"] == "30m");
  CHECK(shown["entries"][0]["selectors"] == json({"unix:gid:1000", "unix:uid:1000"}));
  CHECK(shown["entries"][0]["zone"] == "inference.ai.example.org");

  CommandResult human = server.Cli("entry show --spiffe-id " + std::string(kModel));
  CHECK_MESSAGE(Contains(human.out, "Found 1 entry"), human.Describe());
  CHECK(Contains(human.out, id));

  CommandResult updated = server.Cli("entry update --id " + id + " --jwt-ttl 2m --output json");
  REQUIRE_MESSAGE(updated.exit_code == 0, updated.Describe());
  shown = ParseJsonOutput(server.Cli("entry show --id " + id + " --output json"));
  CHECK(shown["entries"][0]["jwt_svid_ttl"] == "2m");
  CHECK(shown["entries"][0]["x509_svid_ttl"] == "30m");  // not given: kept
  CHECK(shown["entries"][0]["revision_number"] == 1);
  CHECK(Count(server) == 1);

  SUBCASE("a JSON batch, including show's own output fed back") {
    dir.Write("batch.json", json({{"entries",
                                   {{{"spiffe_id", kRunner},
                                     {"parent_id", kAgent},
                                     {"selectors", {"unix:uid:2000"}},
                                     {"x509_svid_ttl", "10m"}}}}})
                                .dump());
    CommandResult batch = server.Cli("entry create --data " + ShellQuote(dir.File("batch.json")));
    CHECK_MESSAGE(batch.exit_code == 0, batch.Describe());
    CHECK(Count(server) == 2);
  }

  CommandResult deleted = server.Cli("entry delete --id " + id);
  CHECK_MESSAGE(deleted.exit_code == 0, deleted.Describe());
  CommandResult gone = server.Cli("entry show --id " + id);
  CHECK(gone.exit_code == 1);
  CHECK_MESSAGE(Contains(gone.err, "error: NOT_FOUND"), gone.Describe());
}

TEST_CASE("server cli: bad input fails with the right exit code and writes nothing") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  struct Case {
    std::string args;
    int exit_code;
    std::string message;
  };
  dir.Write("typo.json", R"({"entries":[{"spiffe_id":")" + std::string(kModel) +
                             R"(","parent_id":")" + kAgent +
                             R"(","selectors":["unix:uid:1"],"x509_ttl":"1m"}]})");
  const std::vector<Case> cases = {
      {CreateArgs("spiffe://Inference.ai.example.org/x"), 2, "--spiffe-id"},
      {CreateArgs(kModel, "--selector nocolon"), 2, "--selector"},
      {CreateArgs(kModel, "--x509-ttl 10x"), 2, "--x509-ttl"},
      {CreateArgs(kModel, "--output yaml"), 2, "--output"},
      {"entry create --parent-id " + std::string(kAgent) + " --selector unix:uid:1", 2,
       "--spiffe-id"},
      {"entry create --data " + ShellQuote(dir.File("typo.json")), 2, "entries[0].x509_ttl"},
      {"entry show --parent-id not-an-id", 2, "--parent-id"},
      {CreateArgs(kRunner, "--x509-ttl 1h"), 1, "INVALID_ARGUMENT"},  // tool-execution cap 15m
      {CreateArgs("spiffe://unknown.example.org/w"), 1, "INVALID_ARGUMENT"},
      {"entry create --spiffe-id " + std::string(kModel) +
           " --parent-id spiffe://inference.ai.example.org/agent --selector unix:uid:1",
       1, "INVALID_ARGUMENT"},
      {"entry delete --id no-such-entry", 1, "NOT_FOUND"},
      {"bundle show --trust-domain unknown.example.org", 1, "NOT_FOUND"},
      {"x509 mint --spiffe-id " + std::string(kRunner) + " --ttl 1h", 1, "cap"},
      {"jwt mint --spiffe-id " + std::string(kModel), 2, "--audience"},
      {"token generate --ttl soon", 2, "--ttl"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    CommandResult result = server.Cli(c.args);
    CHECK_MESSAGE(result.exit_code == c.exit_code, result.Describe());
    CHECK_MESSAGE(Contains(result.err, c.message), result.Describe());
    CHECK(Contains(result.err, "error: "));
  }
  CHECK(Count(server) == 0);

  CommandResult unreachable =
      RunCommand(ShellQuote(server.binary()) + " healthcheck --socket " + dir.File("nope.sock"));
  CHECK(unreachable.exit_code == 1);
  CHECK_MESSAGE(Contains(unreachable.err, "UNAVAILABLE"), unreachable.Describe());
}

TEST_CASE("server cli: join tokens, bundles and operator-minted SVIDs") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();

  json token = ParseJsonOutput(server.Cli("token generate --ttl 5m --output json"));
  CHECK(token["token"].get<std::string>().size() == 64);
  CHECK(
      Contains(token["agent_spiffe_id"], "spiffe://control.spinel.test/spinel/agent/join_token/"));
  CommandResult human_token = server.Cli("token generate");
  CHECK(Contains(human_token.out, "Token:"));
  CHECK(Contains(human_token.out, "Agent SPIFFE ID:"));

  CommandResult pem = server.Cli("bundle show --trust-domain inference.ai.example.org");
  REQUIRE_MESSAGE(pem.exit_code == 0, pem.Describe());
  dir.Write("inference.pem", pem.out);
  CHECK(CountCertificates(pem.out) == 1);
  CommandResult parsed =
      RunCommand("openssl x509 -noout -subject -in " + ShellQuote(dir.File("inference.pem")));
  CHECK_MESSAGE(parsed.exit_code == 0, parsed.Describe());
  json jwks =
      ParseJsonOutput(server.Cli("bundle show --trust-domain inference.ai.example.org "
                                 "--format spiffe"));
  CHECK(jwks["keys"].size() == 3);  // x509-svid, jwt-svid and wit-svid
  json bundles = ParseJsonOutput(server.Cli("bundle list --output json"));
  CHECK(bundles["bundles"].size() == 5);

  const std::string out_dir = dir.File("svid");
  CommandResult minted = server.Cli("x509 mint --spiffe-id " + std::string(kModel) +
                                    " --ttl 10m --dns model.example.org --write " + out_dir);
  REQUIRE_MESSAGE(minted.exit_code == 0, minted.Describe());
  struct stat key_info {};
  REQUIRE(::stat((out_dir + "/svid.key").c_str(), &key_info) == 0);
  CHECK((key_info.st_mode & 0777) == 0600);
  CommandResult verified =
      RunCommand("cd " + ShellQuote(out_dir) + " && openssl verify -CAfile bundle.pem svid.pem");
  CHECK_MESSAGE(verified.exit_code == 0, verified.Describe());
  CHECK(Contains(verified.out, "svid.pem: OK"));
  CHECK_FALSE(Contains(minted.out, "PRIVATE KEY"));

  CommandResult printed = server.Cli("x509 mint --spiffe-id " + std::string(kModel));
  REQUIRE_MESSAGE(printed.exit_code == 0, printed.Describe());
  CHECK(CountCertificates(printed.out) == 2);  // the SVID and the bundle
  CHECK(Contains(printed.out, "[private key written only with --write"));
  CHECK_FALSE(Contains(printed.out, "PRIVATE KEY"));

  CommandResult jwt =
      server.Cli("jwt mint --spiffe-id " + std::string(kModel) + " --audience retrieval --ttl 1m");
  REQUIRE_MESSAGE(jwt.exit_code == 0, jwt.Describe());
  CHECK(std::count(jwt.out.begin(), jwt.out.end(), '.') == 2);
  CHECK(std::count(jwt.out.begin(), jwt.out.end(), '\n') == 1);

  CommandResult health = server.Cli("healthcheck");
  CHECK(Contains(health.out, "healthy"));
}

TEST_CASE("server cli: forced rotation goes prepared, then active and old") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  const std::string td = "--trust-domain inference.ai.example.org";
  CHECK(States(server, "x509") == std::multiset<std::string>{"active"});

  CommandResult prepared = server.Cli("localauthority prepare " + td);
  REQUIRE_MESSAGE(prepared.exit_code == 0, prepared.Describe());
  CHECK(Contains(prepared.out, "prepared"));
  CHECK(States(server, "x509") == std::multiset<std::string>{"active", "prepared"});
  CHECK(States(server, "jwt") == std::multiset<std::string>{"active", "prepared"});
  CHECK(States(server, "wit") == std::multiset<std::string>{"active", "prepared"});
  CHECK(CountCertificates(server.Cli("bundle show " + td).out) == 2);  // published early

  CommandResult again = server.Cli("localauthority prepare " + td);
  CHECK(again.exit_code == 1);
  CHECK(Contains(again.err, "FAILED_PRECONDITION"));

  CommandResult activated = server.Cli("localauthority activate " + td);
  REQUIRE_MESSAGE(activated.exit_code == 0, activated.Describe());
  CHECK(States(server, "x509") == std::multiset<std::string>{"active", "old"});
  CHECK(States(server, "jwt") == std::multiset<std::string>{"active", "old"});
  CHECK(States(server, "wit") == std::multiset<std::string>{"active", "old"});
  CHECK(CountCertificates(server.Cli("bundle show " + td).out) == 2);
  CommandResult table = server.Cli("localauthority show " + td);
  CHECK(Contains(table.out, "KIND"));
  CHECK(Contains(table.out, "old"));
}

TEST_CASE("server cli: entries and CAs survive kill -9 and a restart") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  json created = ParseJsonOutput(server.Cli(CreateArgs(kModel, "--output json")));
  const std::string id = created["results"][0]["entry"]["id"];
  const std::string td = "--trust-domain inference.ai.example.org";
  const std::string bundle_before = server.Cli("bundle show " + td).out;
  const std::string control_before =
      server.Cli("bundle show --trust-domain control.spinel.test").out;
  REQUIRE(CountCertificates(bundle_before) == 1);

  server.Kill(SIGKILL);
  server.Start();  // the stale admin socket is replaced

  json shown = ParseJsonOutput(server.Cli("entry show --id " + id + " --output json"));
  CHECK(shown["entries"][0]["spiffe_id"] == kModel);
  CHECK(Count(server) == 1);
  CHECK(server.Cli("bundle show " + td).out == bundle_before);
  CHECK(server.Cli("bundle show --trust-domain control.spinel.test").out == control_before);
}
