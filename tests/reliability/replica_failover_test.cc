// Fault: one of two spinel-server replicas on one PostgreSQL database (issue 9) is killed
// (SIGKILL) while a real spinel-agent, configured with both (`servers: [A, B]`) and attested
// to A, serves two workloads with 30s X509-SVIDs on open `api watch` streams. Proves:
//   - the agent moves to B within seconds: an entry created through B reaches a workload of
//     the agent (the agent syncs from B), and the agent says it switched;
//   - rotation goes on through B with no new attestation: each workload's stream receives SVIDs
//     signed after A died, and no workload, on its stream or on new connections polled every
//     half second for more than one SVID lifetime, is ever served an expired SVID.
// And a replica that hangs (SIGSTOP: its connections stay open, nothing answers) is left once
// the agent's keepalive ping goes unanswered: an entry created through B reaches the agent.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "tests/reliability/fault_util.h"
#include "tests/server/datastore/postgres_cluster.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::ChildProcess;
using spinel::testing::CommandResult;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;
using spinel::testing::UseDatastore;
using spinel::testing::WatchedSvid;

namespace {

constexpr int kUids[] = {4401, 4402};
constexpr int kLateUid = 4403;  // registered through B after A died
constexpr int kTtlSeconds = 30;

std::string IdFor(int uid) {
  return "spiffe://inference.ai.example.org/replicas/u" + std::to_string(uid);
}

// Waits until `server`'s control bundle holds both replicas' CAs (each replica publishes its
// own; every replica serves the union).
void WaitForMergedControlBundle(const ServerProcess& server) {
  CommandResult bundle;
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        bundle = server.Cli("bundle show --trust-domain " +
                                            std::string(spinel::testing::kTestControlTd));
                        return bundle.exit_code == 0 &&
                               spinel::testing::CountCertificates(bundle.out) >= 2;
                      },
                      std::chrono::seconds(20)),
                  bundle.Describe());
}

// Rewrites the agent's config in `dir` to list every replica (`servers:`), first one first.
void UseReplicas(const TempDir& dir, const std::vector<const ServerProcess*>& replicas) {
  std::string config = spinel::testing::ReadWholeFile(dir.File("agent.yaml"));
  const std::string key = "server_address: ";
  const size_t at = config.find(key);
  REQUIRE_MESSAGE(at != std::string::npos, config);
  std::string list = "servers: [";
  for (size_t i = 0; i < replicas.size(); ++i) {
    list += (i ? ", " : "") + spinel::testing::AgentApiAddress(*replicas[i]);
  }
  config.replace(at, config.find('\n', at) - at, list + "]");
  dir.Write("agent.yaml", config);
}

std::vector<WatchedSvid> Watched(const std::string& log) {
  return spinel::testing::WatchedSvids(spinel::testing::WatchMessages(log));
}

// Every SVID on the stream is the workload's, unexpired when received; returns those received
// at or after `since` (Unix seconds) with a serial not seen before it.
std::vector<WatchedSvid> CheckStream(int uid, const std::string& log, int64_t since) {
  std::vector<WatchedSvid> renewed;
  std::map<std::string, bool> seen_before;
  for (const WatchedSvid& svid : Watched(log)) {
    INFO("uid " << uid << " serial " << svid.serial);
    CHECK(svid.spiffe_id == IdFor(uid));
    CHECK(svid.received_at <= svid.expires_at);
    if (svid.received_at < since) {
      seen_before[svid.serial] = true;
    } else if (!seen_before.count(svid.serial)) {
      renewed.push_back(svid);
    }
  }
  return renewed;
}

// Polls a new `api fetch x509` of every workload every half second for `duration`: each is
// served its SVID, unexpired. Returns the number of fetches.
int PollUnexpired(const AgentProcess& agent, std::chrono::seconds duration) {
  int fetches = 0;
  const auto until = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < until) {
    for (int uid : kUids) {
      spinel::testing::FetchOneUnexpired(agent, uid, IdFor(uid));
      ++fetches;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  return fetches;
}

// Two replicas A and B on one fresh PostgreSQL database, an agent attested to A that lists
// both (`servers: [A, B]`), and workloads `uids` registered through A with `ttl_seconds`
// X509-SVIDs.
struct TwoReplicas {
  TempDir dir_a, dir_b, dir_agent;
  ServerProcess a{dir_a}, b{dir_b};
  std::string agent_id;
  std::unique_ptr<AgentProcess> agent;

  TwoReplicas(const std::vector<int>& uids, int ttl_seconds) {
    spinel::testing::PostgresCluster& cluster = spinel::testing::PostgresCluster::Shared();
    const std::string uri = cluster.Uri("", cluster.NewDatabase());
    UseDatastore(dir_a, uri);
    UseDatastore(dir_b, uri);
    a.Start();
    b.Start();
    WaitForMergedControlBundle(a);  // the agent's bootstrap bundle must trust B as well
    std::string token;
    std::tie(token, agent_id) = spinel::testing::NewJoinToken(a);
    for (int uid : uids) {
      spinel::testing::Register(a, IdFor(uid), agent_id, uid,
                                "--x509-ttl " + std::to_string(ttl_seconds) + "s");
    }
    agent = std::make_unique<AgentProcess>(dir_agent, a);
    UseReplicas(dir_agent, {&a, &b});
    agent->Start(token);
  }

  // Registers `uid` through B and waits until the agent serves it: the agent syncs from B.
  // Returns how long that took.
  std::chrono::milliseconds ReachThroughB(int uid, std::chrono::seconds timeout) {
    const auto began = std::chrono::steady_clock::now();
    spinel::testing::Register(b, IdFor(uid), agent_id, uid);
    CommandResult fetched;
    REQUIRE_MESSAGE(spinel::testing::WaitFor(
                        [&] {
                          fetched = agent->Api("api fetch x509", uid);
                          return fetched.exit_code == 0;
                        },
                        timeout),
                    fetched.Describe() << "\nagent:\n"
                                       << agent->Log() << "\nB:\n"
                                       << b.Log());
    CHECK(spinel::testing::Contains(agent->Log(), "switching to the next one"));
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 began);
  }

  // The agent attested once (to A) and never again.
  void CheckAttestedOnce() const {
    const std::string log = agent->Log();
    const size_t attested = log.find("node attested");
    CHECK(attested != std::string::npos);
    CHECK(log.find("node attested", attested + 1) == std::string::npos);
  }
};

}  // namespace

TEST_CASE("fault: a replica is killed; its agent moves to the other and rotation goes on") {
  TwoReplicas replicas({kUids[0], kUids[1]}, kTtlSeconds);
  AgentProcess& agent = *replicas.agent;
  std::map<int, std::string> logs;
  std::vector<std::unique_ptr<ChildProcess>> watches;
  for (int uid : kUids) {
    logs[uid] = replicas.dir_agent.File("watch-" + std::to_string(uid) + ".log");
    watches.push_back(std::make_unique<ChildProcess>());
    absl::Status started =
        watches.back()->Start(AgentProcess::AsUid(uid, {agent.binary(), "api", "watch", "--socket",
                                                        agent.socket_path(), "--output", "json"}),
                              logs[uid]);
    REQUIRE_MESSAGE(started.ok(), started.ToString());
  }
  for (int uid : kUids) {
    REQUIRE_MESSAGE(spinel::testing::WaitFor([&] { return !Watched(logs[uid]).empty(); },
                                             std::chrono::seconds(20)),
                    spinel::testing::ReadWholeFile(logs[uid]) << agent.Log());
  }

  // --- A dies: an entry created through B reaches the agent --------------------------------
  replicas.a.Kill(SIGKILL);
  const int64_t killed_unix = spinel::testing::NowUnix();
  const auto moved = replicas.ReachThroughB(kLateUid, std::chrono::seconds(15));

  // Rotation goes on through B for more than one SVID lifetime, nothing served expired.
  const int fetches = PollUnexpired(agent, std::chrono::seconds(kTtlSeconds + 10));
  CHECK(agent.Running());
  for (auto& watch : watches) CHECK(watch->Running());  // the same streams carried on
  size_t renewals = 0;
  for (int uid : kUids) {
    const std::vector<WatchedSvid> renewed = CheckStream(uid, logs[uid], killed_unix + 1);
    CHECK_MESSAGE(!renewed.empty(), spinel::testing::ReadWholeFile(logs[uid]) << agent.Log());
    renewals += renewed.size();
  }
  replicas.CheckAttestedOnce();
  MESSAGE("replica killed: the agent synced from the other after "
          << moved.count() << "ms; " << fetches << " fetches unexpired, " << renewals
          << " SVIDs signed by B streamed");
  agent.Kill();
  replicas.b.Kill(SIGTERM);
}

TEST_CASE("fault: a replica hangs with its connections open; its agent leaves it") {
  // An hour-long SVID: no renewal (a unary call that would time out) during the test, so only
  // the keepalive can notice the hang.
  TwoReplicas replicas({kUids[0]}, 3600);
  AgentProcess& agent = *replicas.agent;
  REQUIRE(
      spinel::testing::WaitFor([&] { return agent.Api("api fetch x509", kUids[0]).exit_code == 0; },
                               std::chrono::seconds(20)));

  REQUIRE(::kill(replicas.a.pid(), SIGSTOP) == 0);
  // Keepalive: 10 s between pings, 5 s for the answer, then the next replica.
  const auto moved = replicas.ReachThroughB(kLateUid, std::chrono::seconds(40));
  CommandResult cached = agent.Api("api fetch x509", kUids[0]);
  CHECK_MESSAGE(cached.exit_code == 0, cached.Describe());
  replicas.CheckAttestedOnce();
  MESSAGE("replica hung: the agent synced from the other after " << moved.count() << "ms");
  replicas.a.Kill(SIGKILL);
  agent.Kill();
  replicas.b.Kill(SIGTERM);
}
