// The backup and restore procedure of docs/operations.md, run against the real spinel-server:
// an online SQLite backup plus a copy of the CA keys, then a restore into a stopped server.
#include <doctest/doctest.h>

#include <csignal>
#include <nlohmann/json.hpp>
#include <string>

#include "tests/integration/process_util.h"

using nlohmann::json;
using spinel::testing::CommandResult;
using spinel::testing::RunCommand;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

constexpr char kParent[] = "spiffe://control.spinel.test/spinel/agent/join_token/node-1";

void Run(const std::string& command) {
  CommandResult result = RunCommand(command);
  REQUIRE_MESSAGE(result.exit_code == 0, command << "\n" << result.Describe());
}

void CreateEntry(const ServerProcess& server, const std::string& spiffe_id) {
  CommandResult created = server.Cli("entry create --spiffe-id " + spiffe_id + " --parent-id " +
                                     kParent + " --selector unix:uid:1000");
  REQUIRE_MESSAGE(created.exit_code == 0, created.Describe());
}

std::vector<std::string> EntryIds(const ServerProcess& server) {
  CommandResult shown = server.Cli("entry show --output json");
  REQUIRE_MESSAGE(shown.exit_code == 0, shown.Describe());
  std::vector<std::string> ids;
  const json parsed = json::parse(shown.out);
  for (const json& entry : parsed["entries"]) ids.push_back(entry["spiffe_id"]);
  return ids;
}

}  // namespace

TEST_CASE("operations: online backup of datastore and keys restores entries and CAs") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  const std::string data = server.data_dir();
  const std::string backup = dir.File("backup");
  const std::string td = " --trust-domain inference.ai.example.org";
  CreateEntry(server, "spiffe://inference.ai.example.org/model-server");
  const std::string bundle = server.Cli("bundle show" + td).out;
  REQUIRE(!bundle.empty());

  // Backup while the server runs.
  Run("mkdir -p " + ShellQuote(backup));
  Run("sqlite3 " + ShellQuote(data + "/datastore.sqlite3") + " " +
      ShellQuote(".backup " + backup + "/datastore.sqlite3"));
  Run("cp -a " + ShellQuote(data + "/authorities") + " " + ShellQuote(backup + "/"));

  // Changes after the backup, then a forced CA rotation: both are undone by the restore.
  CreateEntry(server, "spiffe://retrieval.ai.example.org/retriever");
  REQUIRE(server.Cli("localauthority prepare" + td).exit_code == 0);
  REQUIRE(server.Cli("bundle show" + td).out != bundle);

  server.Kill(SIGTERM);
  Run("cd " + ShellQuote(data) +
      " && rm -f datastore.sqlite3 datastore.sqlite3-wal datastore.sqlite3-shm"
      " && cp " +
      ShellQuote(backup + "/datastore.sqlite3") + " ." + " && rm -rf authorities && cp -a " +
      ShellQuote(backup + "/authorities") + " .");
  server.Start();

  const std::vector<std::string> ids = EntryIds(server);
  CHECK_MESSAGE(ids == std::vector<std::string>{"spiffe://inference.ai.example.org/model-server"},
                server.Cli("entry show").out);
  CHECK(server.Cli("bundle show" + td).out == bundle);
  CommandResult minted =
      server.Cli("x509 mint --spiffe-id spiffe://inference.ai.example.org/model-server");
  CHECK_MESSAGE(minted.exit_code == 0, minted.Describe());  // the restored CA key still signs
}
