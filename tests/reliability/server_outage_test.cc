// Fault: the real spinel-server is down (SIGKILL) for half an SVID lifetime while three
// workloads (three uids, 40s X509-SVIDs) hold open `api watch` streams on a real spinel-agent.
// The outage starts just after every workload's first rotation, so each SVID has at least the
// agent's renewal margin left. Proves:
//   - during the outage every workload, on new connections polled every ~second, is served its
//     cached SVID (the one its stream last received), never an expired one;
//   - the agent and every stream stay up;
//   - after the restart, rotation catches up: each stream receives a new SVID before the one it
//     replaces expires, and no stream ever carried an expired SVID.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "tests/reliability/fault_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::ChildProcess;
using spinel::testing::CommandResult;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;

namespace {

constexpr int kUids[] = {4301, 4302, 4303};
constexpr int kTtlSeconds = 40;

std::string IdFor(int uid) {
  return "spiffe://inference.ai.example.org/outage/u" + std::to_string(uid);
}

// The last SVID a watch received, or an empty serial.
spinel::testing::WatchedSvid Latest(const std::string& watch_log) {
  std::vector<spinel::testing::WatchedSvid> svids =
      spinel::testing::WatchedSvids(spinel::testing::WatchMessages(watch_log));
  return svids.empty() ? spinel::testing::WatchedSvid{} : svids.back();
}

// Every message carries the workload's one SVID, unexpired; each new serial arrived before the
// previous SVID expired. Returns the number of rotations.
int CheckStream(int uid, const std::string& watch_log) {
  const std::vector<json> messages = spinel::testing::WatchMessages(watch_log);
  int rotations = 0;
  spinel::testing::WatchedSvid previous;
  for (const json& message : messages) {
    INFO("uid " << uid << " message " << message.dump());
    const std::vector<spinel::testing::WatchedSvid> svids =
        spinel::testing::WatchedSvids({message});
    REQUIRE(svids.size() == 1);
    const spinel::testing::WatchedSvid& svid = svids.front();
    CHECK(svid.spiffe_id == IdFor(uid));
    CHECK(svid.received_at <= svid.expires_at);
    if (!previous.serial.empty() && svid.serial != previous.serial) {
      ++rotations;
      CHECK(svid.received_at < previous.expires_at);  // caught up before the old one expired
      CHECK(svid.expires_at > previous.expires_at);
    }
    previous = svid;
  }
  return rotations;
}

}  // namespace

TEST_CASE("fault: server down for half an SVID lifetime") {
  TempDir dir;
  ServerProcess server(dir);
  const auto start_began = std::chrono::steady_clock::now();
  server.Start();
  // Starting counts as downtime: the restart begins this much before the half-lifetime is up.
  const auto startup = std::chrono::steady_clock::now() - start_began;
  spinel::testing::PinAgentApiPort(dir, server);
  auto [token, agent_id] = spinel::testing::NewJoinToken(server);
  for (int uid : kUids) {
    spinel::testing::Register(server, IdFor(uid), agent_id, uid,
                              "--x509-ttl " + std::to_string(kTtlSeconds) + "s");
  }
  AgentProcess agent(dir, server);
  agent.Start(token);
  std::map<int, std::string> logs;
  std::vector<std::unique_ptr<ChildProcess>> watches;
  for (int uid : kUids) {
    logs[uid] = dir.File("watch-" + std::to_string(uid) + ".log");
    watches.push_back(std::make_unique<ChildProcess>());
    watches.back()->Start(AgentProcess::AsUid(uid, {agent.binary(), "api", "watch", "--socket",
                                                    agent.socket_path(), "--output", "json"}),
                          logs[uid]);
  }
  // Every workload has seen its first rotation: its SVID is fresh.
  for (int uid : kUids) {
    REQUIRE_MESSAGE(
        spinel::testing::WaitFor(
            [&] {
              auto svids = spinel::testing::WatchedSvids(spinel::testing::WatchMessages(logs[uid]));
              return svids.size() >= 2 && svids.back().serial != svids.front().serial;
            },
            std::chrono::seconds(kTtlSeconds + 15)),
        spinel::testing::ReadWholeFile(logs[uid]) << agent.Log());
  }
  std::map<int, spinel::testing::WatchedSvid> cached;
  for (int uid : kUids) cached[uid] = Latest(logs[uid]);

  // --- the outage: half an SVID lifetime ------------------------------------------------------
  server.Kill(SIGKILL);
  const auto down_at = std::chrono::steady_clock::now();
  const auto down_until = down_at + std::chrono::seconds(kTtlSeconds / 2) - startup;
  int fetches = 0;
  while (std::chrono::steady_clock::now() < down_until) {
    for (int uid : kUids) {
      const json svid = spinel::testing::FetchOneUnexpired(agent, uid, IdFor(uid));
      CHECK(svid["serial"] == cached[uid].serial);  // the cached SVID
      ++fetches;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  CHECK(agent.Running());
  for (auto& watch : watches) CHECK(watch->Running());

  // --- back: rotation catches up before anything expires --------------------------------------
  server.Start();
  const auto downtime = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - down_at);
  for (int uid : kUids) {
    CHECK_MESSAGE(
        spinel::testing::WaitFor([&] { return Latest(logs[uid]).serial != cached[uid].serial; },
                                 std::chrono::seconds(kTtlSeconds)),
        spinel::testing::ReadWholeFile(logs[uid]) << agent.Log());
  }
  int rotations = 0;
  for (int uid : kUids) rotations += CheckStream(uid, logs[uid]);
  for (auto& watch : watches) CHECK(watch->Running());  // the same streams carried on
  MESSAGE("server outage of " << downtime.count() << "ms (" << kTtlSeconds << "s SVIDs): "
                              << fetches << " fetches served the cached SVID, " << rotations
                              << " rotations on " << std::size(kUids) << " open streams");
}
