// Integration test of the real spinel-agent with the real spinel-server, on temp dirs and
// loopback. One server and one agent go through the agent's whole life, in order:
//   1. a process running as a registered uid (entry selector unix:uid:N) gets its X509-SVID and
//      JWT-SVID through the Workload API socket; another uid gets PERMISSION_DENIED for JWTs
//      and no X509-SVID (PERMISSION_DENIED for both);
//   2. with a 20s X.509 TTL, one open `api watch` stream receives at least two rotations, each
//      before the SVID it replaces expires;
//   3. with the server killed, cached SVIDs are still served (new connections included), and
//      when it comes back the agent reconnects and rotation resumes on the same open stream;
//   4. the agent, killed with SIGKILL and started again without a join token, reuses its
//      persisted agent SVID and serves the same identities.
// Workloads run as other uids through `setpriv`; the agent and server run as root.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/rfc3339.h"
#include "tests/integration/agent_process_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::ChildProcess;
using spinel::testing::CommandResult;
using spinel::testing::ParseJsonOutput;
using spinel::testing::RequireOk;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;

namespace {

constexpr int kWorkloadUid = 4101;
constexpr int kStrangerUid = 4102;
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kAudience[] = "db.example.org";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The messages `api watch --output json` has printed so far (one JSON document per line).
std::vector<json> WatchMessages(const std::string& log_path) {
  std::vector<json> out;
  std::istringstream lines(spinel::testing::ReadWholeFile(log_path));
  std::string line;
  while (std::getline(lines, line)) {
    json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!parsed.is_discarded() && parsed.contains("svids")) out.push_back(parsed);
  }
  return out;
}

// The single SVID of a watch message or fetch output.
const json& OnlySvid(const json& message) {
  REQUIRE_MESSAGE(message["svids"].size() == 1, message.dump());
  return message["svids"][0];
}

// RFC 3339 UTC timestamps of the same format compare as strings.
std::string NowRfc3339() { return spinel::common::FormatRfc3339(std::chrono::system_clock::now()); }

// Every message brings a new SVID, and arrived before the previous one expired.
void CheckRotations(const std::vector<json>& messages) {
  for (size_t i = 1; i < messages.size(); ++i) {
    const json& before = OnlySvid(messages[i - 1]);
    const json& after = OnlySvid(messages[i]);
    INFO("message " << i << ": " << messages[i].dump() << "\nprevious: " << messages[i - 1].dump());
    CHECK(after["spiffe_id"] == kModel);
    CHECK(after["serial"] != before["serial"]);
    CHECK(after["expires_at"].get<std::string>() > before["expires_at"].get<std::string>());
    CHECK(messages[i]["received_at"].get<std::string>() < before["expires_at"].get<std::string>());
  }
}

}  // namespace

TEST_CASE("agent: workload identities by uid, rotation on an open stream, outages, restarts") {
  TempDir dir;
  ServerProcess server(dir);
  auto [token, agent_id] = spinel::testing::StartServerForAgent(dir, server);
  spinel::testing::Register(server, kModel, agent_id, kWorkloadUid, "--x509-ttl 20s");
  AgentProcess agent(dir, server);
  agent.Start(token);
  CHECK_MESSAGE(Contains(agent.Log(), "SPIFFE_ENDPOINT_SOCKET"), agent.Log());
  CHECK(agent.Log().find(token) == std::string::npos);  // the token is a secret

  // --- 1. identities by uid ----------------------------------------------------------------
  CommandResult fetched;
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        fetched = agent.Api("api fetch x509 --output json", kWorkloadUid);
                        return fetched.exit_code == 0;
                      },
                      std::chrono::seconds(30)),
                  fetched.Describe() << agent.Log());
  json x509 = ParseJsonOutput(fetched);
  CHECK(OnlySvid(x509)["spiffe_id"] == kModel);
  CHECK(spinel::testing::Sorted(x509["federated_bundles"]) ==  // inference's peers
        json({"spiffe://retrieval.ai.example.org", "spiffe://tools.ai.example.org"}));

  json jwt = ParseJsonOutput(agent.Api(
      std::string("api fetch jwt --audience ") + kAudience + " --output json", kWorkloadUid));
  REQUIRE(jwt["svids"].size() == 1);
  CHECK(jwt["svids"][0]["spiffe_id"] == kModel);
  const std::string jwt_token = jwt["svids"][0]["token"];
  CHECK(std::count(jwt_token.begin(), jwt_token.end(), '.') == 2);
  json validated =
      ParseJsonOutput(agent.Api(std::string("api validate jwt --audience ") + kAudience +
                                    " --svid " + jwt_token + " --output json",
                                kWorkloadUid));
  CHECK(validated["spiffe_id"] == kModel);
  CommandResult wrong_audience =
      agent.Api("api validate jwt --audience other.example.org --svid " + jwt_token, kWorkloadUid);
  CHECK(wrong_audience.exit_code == 1);
  CHECK_MESSAGE(Contains(wrong_audience.err, "INVALID_ARGUMENT"), wrong_audience.Describe());

  // Another uid (no entry matches it): both JWT-SVIDs and X509-SVIDs are refused with
  // PERMISSION_DENIED "no identity issued", as the Workload API spec says.
  CommandResult denied_jwt =
      agent.Api(std::string("api fetch jwt --audience ") + kAudience, kStrangerUid);
  CHECK_MESSAGE(denied_jwt.exit_code == 1, denied_jwt.Describe());
  CHECK_MESSAGE(Contains(denied_jwt.err, "PERMISSION_DENIED"), denied_jwt.Describe());
  CHECK(denied_jwt.out.find("eyJ") == std::string::npos);
  CommandResult denied_x509 = agent.Api("api fetch x509", kStrangerUid);
  CHECK_MESSAGE(denied_x509.exit_code == 1, denied_x509.Describe());
  CHECK_MESSAGE(Contains(denied_x509.err, "PERMISSION_DENIED"), denied_x509.Describe());
  CHECK(denied_x509.out.find("SPIFFE ID") == std::string::npos);

  // --- 2. rotations pushed on one open stream ----------------------------------------------
  const std::string watch_log = dir.File("watch.log");
  ChildProcess watch;
  RequireOk(
      watch.Start(AgentProcess::AsUid(kWorkloadUid, {agent.binary(), "api", "watch", "--socket",
                                                     agent.socket_path(), "--output", "json"}),
                  watch_log));
  REQUIRE_MESSAGE(spinel::testing::WaitFor([&] { return WatchMessages(watch_log).size() >= 3; },
                                           std::chrono::seconds(45)),
                  spinel::testing::ReadWholeFile(watch_log) << agent.Log());
  CHECK(watch.Running());
  CheckRotations(WatchMessages(watch_log));

  // --- 3. server outage and return ----------------------------------------------------------
  server.Kill(SIGKILL);
  const std::string down_since = NowRfc3339();
  json during = ParseJsonOutput(agent.Api("api fetch x509 --output json", kWorkloadUid));
  CHECK(OnlySvid(during)["spiffe_id"] == kModel);
  CHECK(OnlySvid(during)["expires_at"].get<std::string>() > down_since);
  json jwt_during = ParseJsonOutput(agent.Api(
      std::string("api fetch jwt --audience ") + kAudience + " --output json", kWorkloadUid));
  CHECK(jwt_during["svids"][0]["token"] == jwt_token);  // cached until its half-life
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(agent.Running());
  CHECK(ParseJsonOutput(agent.Api("api fetch x509 --output json", kWorkloadUid))["svids"].size() ==
        1);

  server.Start();
  const std::string back_at = NowRfc3339();
  const size_t before_restart = WatchMessages(watch_log).size();
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        auto messages = WatchMessages(watch_log);
                        return messages.size() > before_restart &&
                               messages.back()["received_at"].get<std::string>() >= back_at;
                      },
                      std::chrono::seconds(45)),
                  spinel::testing::ReadWholeFile(watch_log) << agent.Log());
  CHECK(watch.Running());  // the same stream carried on across the outage
  CheckRotations(WatchMessages(watch_log));
  watch.Kill(SIGTERM);

  // --- 4. agent restart without a join token ------------------------------------------------
  json agents_before = ParseJsonOutput(server.Cli("agent list --output json"));
  REQUIRE(agents_before["agents"].size() == 1);
  agent.Kill(SIGKILL);
  agent.Start();  // no token: the persisted agent SVID
  CHECK_MESSAGE(Contains(agent.Log(), "reusing persisted agent SVID"), agent.Log());
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        fetched = agent.Api("api fetch x509 --output json", kWorkloadUid);
                        return fetched.exit_code == 0;
                      },
                      std::chrono::seconds(30)),
                  fetched.Describe() << agent.Log());
  CHECK(OnlySvid(ParseJsonOutput(fetched))["spiffe_id"] == kModel);
  json agents_after = ParseJsonOutput(server.Cli("agent list --output json"));
  REQUIRE(agents_after["agents"].size() == 1);
  CHECK(agents_after["agents"][0]["spiffe_id"] == agent_id);
  CommandResult still_denied =
      agent.Api(std::string("api fetch jwt --audience ") + kAudience, kStrangerUid);
  CHECK_MESSAGE(Contains(still_denied.err, "PERMISSION_DENIED"), still_denied.Describe());
}
