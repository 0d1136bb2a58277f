// Attacks on the secrets at rest and in logs, with the real binaries at debug log level:
//   - another uid connecting to the admin socket (even with its directory made traversable)
//     is refused, and learns nothing;
//   - every private key file in the server's and the agent's data directories (zone and
//     control CAs, JWT keys, the server's and the agent's SVID keys), and the workload key
//     files the CLIs write, are mode 0600 in directories others cannot write;
//   - after a full run (attestation with a join token, X.509 and JWT fetches, operator mints,
//     an authorization), no log line of the server or the agent, and no listing CLI output,
//     contains a private key (its PEM block, the base64 of its DER, or any line of it), the
//     join token or a JWT-SVID (nor its signature).
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <sstream>

#include "tests/security/attack_util.h"

using nlohmann::json;
using spinel::testing::AgentWorld;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ReadWholeFile;
using spinel::testing::ShellQuote;

namespace {

constexpr int kOtherUid = 4401;

unsigned Mode(const std::string& path) {
  struct stat st {};
  REQUIRE_MESSAGE(::lstat(path.c_str(), &st) == 0, path);
  return st.st_mode & 07777;
}

// Files under `dir` (recursively) that hold a PEM private key.
std::vector<std::string> KeyFiles(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& file : std::filesystem::recursive_directory_iterator(dir)) {
    if (!file.is_regular_file()) continue;
    if (Contains(ReadWholeFile(file.path().string()), "PRIVATE KEY-----")) {
      out.push_back(file.path().string());
    }
  }
  return out;
}

// The secret strings of a PEM private key file: its base64 body (the DER) in one piece, and
// each of its lines.
std::vector<std::string> KeySecrets(const std::string& pem) {
  std::vector<std::string> out;
  std::string body;
  std::istringstream lines(pem);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line.rfind("-----", 0) == 0) continue;
    body += line;
    if (line.size() >= 16) out.push_back(line);
  }
  out.push_back(body);
  return out;
}

std::string Jwt(const CommandResult& result) {
  json parsed = ParseJsonOutput(result);
  if (parsed.contains("svids")) return parsed["svids"][0]["token"];
  return parsed["token"];
}

}  // namespace

TEST_CASE("attack: the admin socket refuses another uid") {
  AgentWorld world;
  const std::string socket = world.server.socket_path();
  CHECK((Mode(socket) & 0077) == 0);
  // Make the way to the socket traversable, so only the socket's own mode protects it.
  const unsigned data_mode = Mode(world.server.data_dir());
  REQUIRE(::chmod(world.server.data_dir().c_str(), 0755) == 0);
  std::string prefix = "SPINEL_ADMIN_SOCKET=" + ShellQuote(socket) + " ";
  for (const std::string& part :
       spinel::testing::AgentProcess::AsUid(kOtherUid, {world.server.binary()})) {
    prefix += ShellQuote(part) + " ";
  }
  CommandResult health = spinel::testing::RunCommand(prefix + "healthcheck");
  CommandResult agents = spinel::testing::RunCommand(prefix + "agent list --output json");
  CommandResult token = spinel::testing::RunCommand(prefix + "token generate --output json");
  REQUIRE(::chmod(world.server.data_dir().c_str(), data_mode) == 0);
  CHECK_MESSAGE(health.exit_code != 0, health.Describe());
  CHECK_MESSAGE(agents.exit_code != 0, agents.Describe());
  CHECK_FALSE(Contains(agents.out, world.agent_id));
  CHECK_MESSAGE(token.exit_code != 0, token.Describe());
  CHECK_FALSE(Contains(token.out, "token"));
  // The owner is served.
  CHECK(world.server.Cli("healthcheck").exit_code == 0);
}

TEST_CASE("attack: private keys on disk are 0600, and no secret reaches a log line") {
  AgentWorld world("log:\n  level: debug\n", "log:\n  level: debug\n");
  const std::string runner = spinel::testing::kAttackRunner;

  // A full run: fetches, an authorization, operator mints, an unused token.
  std::vector<std::string> jwts = {
      Jwt(world.Agent("api fetch jwt --audience db --output json --spiffe-id " + runner)),
      Jwt(world.Agent("api fetch jwt --audience spinel-authorize --output json --spiffe-id " +
                      runner)),
      Jwt(world.server.Cli("jwt mint --spiffe-id " + runner + " --audience db --output json")),
  };
  REQUIRE(world.Agent("api validate jwt --audience db --svid " + jwts[0]).exit_code == 0);
  CommandResult decision = world.Agent("authorize --svid " + jwts[1] +
                                       " --resource tool:deploy.api --action invoke --context "
                                       "environment=staging");
  REQUIRE_MESSAGE(decision.exit_code == 0, decision.Describe());
  const std::string written = world.dir.File("workload");
  REQUIRE(world.Agent("api fetch x509 --write " + written).exit_code == 0);
  const std::string minted = world.dir.File("minted");
  REQUIRE(world.server.Cli("x509 mint --spiffe-id " + runner + " --write " + minted).exit_code ==
          0);
  const std::string unused =
      ParseJsonOutput(world.server.Cli("token generate --output json"))["token"];

  // Keys at rest.
  std::vector<std::string> keys;
  for (const std::string& dir :
       {world.server.data_dir(), world.agent->data_dir(), written, minted}) {
    for (const std::string& file : KeyFiles(dir)) {
      INFO(file);
      CHECK((Mode(file) & 0777) == 0600);
      CHECK((Mode(std::filesystem::path(file).parent_path().string()) & 0022) == 0);
      keys.push_back(file);
    }
  }
  // Control CA, JWT and WIT keys, three per shipped zone, the server's SVID key, the agent's
  // key, and the two workload keys.
  CHECK(keys.size() >= 3 + 3 * 4 + 1 + 1 + 2);

  // Secrets in logs and listings.
  std::vector<std::string> secrets = {world.token, unused};
  for (const std::string& jwt : jwts) {
    secrets.push_back(jwt);
    secrets.push_back(jwt.substr(jwt.rfind('.') + 1));  // the signature alone
  }
  for (const std::string& file : keys) {
    for (const std::string& secret : KeySecrets(ReadWholeFile(file))) secrets.push_back(secret);
  }
  struct Text {
    std::string name;
    std::string content;
  };
  std::vector<Text> texts = {
      {"server log", world.server.Log()},
      {"agent log", world.agent->Log()},
      {"agent list", world.server.Cli("agent list --output json").out},
      {"entry list", world.server.Cli("entry list --output json").out},
      {"audit list", world.server.Cli("audit list --output json").out},
      {"authorize", decision.out + decision.err},
  };
  CHECK(Contains(texts[1].content, " DEBUG "));  // the run was at debug level
  for (const Text& text : texts) {
    INFO(text.name);
    CHECK_FALSE(Contains(text.content, "PRIVATE KEY"));
    for (const std::string& secret : secrets) {
      CHECK_MESSAGE(!Contains(text.content, secret), "secret found: " << secret.substr(0, 12));
    }
  }
}
