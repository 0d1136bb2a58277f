// Fault: the real spinel-agent killed with SIGKILL, again and again, and started without a join
// token each time. tests/integration/agent_workload_test.cc restarts an idle agent once; this
// goes further: three kills at three different moments —
//   1. with open workload streams and short-lived SVIDs (10s) rotating;
//   2. right after the agent announced it started (its first sync and signing in flight);
//   3. with the server down too: the agent starts again while the server is unreachable, a
//      workload connecting then is held, and is served once the server is back.
// Proves, for each: no join token is needed (the token was single use and is not given again;
// the agent reuses its persisted SVID and attests only once in its life), the open streams end
// with a clean error instead of hanging, workloads reconnect and get the same SPIFFE IDs, never
// an expired SVID, and the server still knows exactly one agent with the same ID.
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "tests/reliability/fault_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::ChildProcess;
using spinel::testing::CommandResult;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;

namespace {

constexpr int kUids[] = {4501, 4502};

std::string IdFor(int uid) {
  return "spiffe://retrieval.ai.example.org/agent-crash/u" + std::to_string(uid);
}

size_t Occurrences(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
    ++count;
  }
  return count;
}

// Open `api watch` streams, one per workload uid, restarted after each agent restart.
class Workloads {
 public:
  Workloads(const TempDir& dir, const AgentProcess& agent) : dir_(dir), agent_(agent) {}

  void OpenStreams() {
    ++generation_;
    watches_.clear();
    for (int uid : kUids) {
      const std::string log = Log(uid);
      watches_[uid] = std::make_unique<ChildProcess>();
      watches_[uid]->Start(AgentProcess::AsUid(uid, {agent_.binary(), "api", "watch", "--socket",
                                                     agent_.socket_path(), "--output", "json"}),
                           log);
    }
  }
  // Every open stream has received its workload's SVID.
  bool AllServed() {
    for (int uid : kUids) {
      std::vector<spinel::testing::WatchedSvid> svids =
          spinel::testing::WatchedSvids(spinel::testing::WatchMessages(Log(uid)));
      if (svids.empty() || svids.back().spiffe_id != IdFor(uid)) return false;
    }
    return true;
  }
  // After the agent died: every stream ended (no hang) with an error exit.
  void CheckStreamsEnded() {
    for (auto& [uid, watch] : watches_) {
      // Plain variables: lambdas (ours, CHECK_MESSAGE's) cannot name bindings in clang 14.
      const auto stream_uid = uid;
      auto& stream = watch;
      CHECK_MESSAGE(
          spinel::testing::WaitFor([&] { return !stream->Running(); }, std::chrono::seconds(30)),
          "uid " << stream_uid << " stream still open after the agent died");
      CHECK(watch->Kill(SIGKILL) != 0);  // already exited: its status, an error exit
    }
  }
  // Every SVID any stream ever received: the right ID, unexpired. Returns how many.
  size_t CheckAllReceived() {
    size_t checked = 0;
    for (int generation = 1; generation <= generation_; ++generation) {
      for (int uid : kUids) {
        const std::string log =
            dir_.File("watch-" + std::to_string(uid) + "-" + std::to_string(generation) + ".log");
        for (const auto& svid :
             spinel::testing::WatchedSvids(spinel::testing::WatchMessages(log))) {
          CHECK(svid.spiffe_id == IdFor(uid));
          CHECK(svid.received_at <= svid.expires_at);
          ++checked;
        }
      }
    }
    return checked;
  }

 private:
  std::string Log(int uid) const {
    return dir_.File("watch-" + std::to_string(uid) + "-" + std::to_string(generation_) + ".log");
  }

  const TempDir& dir_;
  const AgentProcess& agent_;
  int generation_ = 0;
  std::map<int, std::unique_ptr<ChildProcess>> watches_;
};

}  // namespace

TEST_CASE("fault: agent kill -9 three times, restarted without a join token") {
  TempDir dir;
  ServerProcess server(dir);
  auto [token, agent_id] = spinel::testing::StartServerForAgent(dir, server);
  for (int uid : kUids)
    spinel::testing::Register(server, IdFor(uid), agent_id, uid, "--x509-ttl 10s");
  AgentProcess agent(dir, server);
  agent.Start(token);
  Workloads workloads(dir, agent);
  workloads.OpenStreams();
  REQUIRE_MESSAGE(spinel::testing::WaitFor([&] { return workloads.AllServed(); }), agent.Log());

  // --- 1. streams open, SVIDs rotating ------------------------------------------------------
  REQUIRE(spinel::testing::WaitFor([&] {  // at least one rotation in progress: 10s SVIDs
    return spinel::testing::AuditEvents(server, "x509_svid.issued").size() >= 2 * std::size(kUids);
  }));
  agent.Kill(SIGKILL);
  workloads.CheckStreamsEnded();
  agent.Start();  // no token
  workloads.OpenStreams();
  CHECK_MESSAGE(spinel::testing::WaitFor([&] { return workloads.AllServed(); }), agent.Log());

  // --- 2. right after it started ------------------------------------------------------------
  agent.Kill(SIGKILL);
  workloads.CheckStreamsEnded();
  agent.Start();
  agent.Kill(SIGKILL);  // again, before its first sync can have finished
  agent.Start();
  workloads.OpenStreams();
  CHECK_MESSAGE(spinel::testing::WaitFor([&] { return workloads.AllServed(); }), agent.Log());

  // --- 3. agent and server down; the agent comes back first ---------------------------------
  agent.Kill(SIGKILL);
  workloads.CheckStreamsEnded();
  server.Kill(SIGKILL);
  agent.Start();            // the server is unreachable: the persisted SVID is all it has
  workloads.OpenStreams();  // held until the agent can serve them
  server.Start();
  CHECK_MESSAGE(spinel::testing::WaitFor([&] { return workloads.AllServed(); }), agent.Log());

  // --- one agent, attested once, the same identities ----------------------------------------
  const std::string log = agent.Log();
  CHECK(Occurrences(log, "node attested") == 1);
  CHECK(Occurrences(log, "reusing persisted agent SVID") == 4);
  CHECK(log.find(token) == std::string::npos);
  json agents = ParseJsonOutput(server.Cli("agent list --output json"));
  REQUIRE(agents["agents"].size() == 1);
  CHECK(agents["agents"][0]["spiffe_id"] == agent_id);
  CHECK(spinel::testing::AuditEvents(server, "agent.attestation_refused").empty());
  for (int uid : kUids) {
    json fetched = ParseJsonOutput(agent.Api("api fetch x509 --output json", uid));
    CHECK(fetched["svids"][0]["spiffe_id"] == IdFor(uid));
  }
  const size_t checked = workloads.CheckAllReceived();
  CHECK(checked >= 4 * std::size(kUids));
  MESSAGE("agent kill -9: 4 kills, 4 restarts without a token, " << checked
                                                                 << " SVIDs received checked");
}
