// agent/sync_loop: the reconnect backoff (capped, exponential, jittered), and the loop against
// the real server agent API in process: the first snapshot, pushed changes, riding out a
// server outage with the cache intact, and catching up after reconnecting.
#include "agent/sync_loop.h"

#include <doctest/doctest.h>

#include <functional>
#include <set>
#include <thread>

#include "common/file_util.h"
#include "tests/agent/agent_server_harness.h"
#include "tests/fakes/temp_dir.h"

using namespace std::chrono_literals;
using spinel::agent::IdentityCache;
using spinel::agent::ReconnectBackoff;
using spinel::agent::SyncLoop;
using spinel::agent::testing::AgentApiHarness;
using spinel::agent::testing::AgentSide;
using spinel::common::Duration;

namespace {

// Polls `ready` every 20ms for up to `timeout` of real time.
bool Eventually(const std::function<bool()>& ready, std::chrono::milliseconds timeout = 15s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return ready();
}

bool HasEntry(const IdentityCache& cache, const std::string& id) {
  for (const auto& e : cache.Snapshot()->entries) {
    if (e.id == id) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("reconnect backoff: doubles from min, is capped at max, and is jittered") {
  const Duration min = std::chrono::milliseconds(500);
  const Duration max = std::chrono::milliseconds(30000);
  std::set<Duration::rep> first_delays;
  for (int run = 0; run < 200; ++run) {
    ReconnectBackoff backoff(min, max);
    Duration base = min;
    for (int n = 0; n < 12; ++n) {
      const Duration delay = backoff.Next();
      if (n == 0) first_delays.insert(delay.count());
      // Within +-20% of the capped step, never above the cap.
      REQUIRE(delay >= std::chrono::duration_cast<Duration>(base * 0.8));
      REQUIRE(delay <= std::chrono::duration_cast<Duration>(base * 1.2));
      REQUIRE(delay <= max);
      base = std::min(base * 2, max);
    }
    // Far along it stays at the cap, still jittered below it.
    for (int n = 0; n < 5; ++n) {
      const Duration delay = backoff.Next();
      REQUIRE(delay >= std::chrono::duration_cast<Duration>(max * 0.8));
      REQUIRE(delay <= max);
    }
    backoff.Reset();
    const Duration after_reset = backoff.Next();
    REQUIRE(after_reset >= std::chrono::duration_cast<Duration>(min * 0.8));
    REQUIRE(after_reset <= std::chrono::duration_cast<Duration>(min * 1.2));
  }
  CHECK(first_delays.size() > 100);  // jitter: a fleet does not reconnect in lockstep
}

TEST_CASE("reconnect backoff: min equal to max is a jittered constant within the cap") {
  ReconnectBackoff backoff(1s, 1s);
  for (int i = 0; i < 50; ++i) {
    const Duration delay = backoff.Next();
    CHECK(delay >= 800ms);
    CHECK(delay <= 1s);
  }
}

TEST_CASE("sync loop: follows the server, rides out an outage and catches up") {
  AgentApiHarness server;
  spinel::testing::TempDir dir;
  auto config = server.MakeAgentConfig(dir.path());
  spinel::common::SpiffeId agent_id;
  config.join_token = server.JoinToken(&agent_id);
  AgentSide agent(config, server.fixture.clock);
  agent.Attest();
  auto kept =
      server.CreateEntry(agent_id, "spiffe://inference.ai.example.org/kept", {"unix:uid:1000"});
  auto doomed =
      server.CreateEntry(agent_id, "spiffe://retrieval.ai.example.org/doomed", {"unix:uid:1001"});
  IdentityCache cache;
  SyncLoop sync(agent.config, *agent.client, *agent.session, cache, server.fixture.clock);
  sync.Start();

  // The first (full) snapshot: entries, every zone's bundle plus the control bundle, peering.
  REQUIRE(Eventually([&] { return sync.connected(); }));
  auto snapshot = cache.Snapshot();
  CHECK(snapshot->synced);
  CHECK(HasEntry(cache, kept.id));
  CHECK(HasEntry(cache, doomed.id));
  CHECK(snapshot->bundles.size() == 5);
  auto inference = spinel::common::TrustDomain::Parse("inference.ai.example.org");
  REQUIRE(inference.ok());
  REQUIRE(snapshot->peers.count(*inference) == 1);
  CHECK(snapshot->peers.at(*inference).size() == 2);
  CHECK(spinel::common::FileExists(config.data_dir + "/control-bundle.pem"));

  // A change on the server is pushed.
  auto pushed =
      server.CreateEntry(agent_id, "spiffe://tools.ai.example.org/pushed", {"unix:uid:1002"});
  CHECK(Eventually([&] { return HasEntry(cache, pushed.id); }));

  // Outage: the cache keeps everything; the loop keeps trying.
  server.Stop();
  REQUIRE(Eventually([&] { return !sync.connected(); }));
  CHECK(HasEntry(cache, kept.id));
  CHECK(HasEntry(cache, doomed.id));
  const uint64_t generation = cache.Snapshot()->generation;
  std::this_thread::sleep_for(1s);  // several reconnect attempts (backoff 50ms..400ms)
  CHECK(cache.Snapshot()->generation == generation);
  // Meanwhile the operator changes things.
  REQUIRE(server.fixture.registry->Delete(doomed.id).ok());
  auto added =
      server.CreateEntry(agent_id, "spiffe://inference.ai.example.org/added", {"unix:uid:1003"});

  // Back: the agent reconnects by itself and catches up on what it missed.
  server.Start();
  REQUIRE(Eventually([&] { return sync.connected(); }, 30s));
  CHECK(Eventually([&] { return HasEntry(cache, added.id) && !HasEntry(cache, doomed.id); }));
  CHECK(HasEntry(cache, kept.id));
  CHECK(HasEntry(cache, pushed.id));
  sync.Stop();
}

TEST_CASE("sync loop: Stop returns promptly while the server is unreachable") {
  AgentApiHarness server;
  spinel::testing::TempDir dir;
  auto config = server.MakeAgentConfig(dir.path());
  config.join_token = server.JoinToken();
  config.reconnect_min = 30s;
  config.reconnect_max = 60s;
  AgentSide agent(config, server.fixture.clock);
  agent.Attest();
  IdentityCache cache;
  SyncLoop sync(agent.config, *agent.client, *agent.session, cache, server.fixture.clock);
  sync.Start();
  REQUIRE(Eventually([&] { return sync.connected(); }));
  server.Stop();
  REQUIRE(Eventually([&] { return !sync.connected(); }));
  const auto started = std::chrono::steady_clock::now();
  sync.Stop();  // in a 30s backoff sleep: must not wait it out
  CHECK(std::chrono::steady_clock::now() - started < 20s);
}
