// Agent fail-over between server replicas (config `servers:`), against the real agent API in
// process: a second listener over the same server components stands in for another replica.
// The client moves on when a replica is unreachable (attestation, unary calls, the Sync
// stream), keeps its identity (no re-attestation: the join token is single-use) and the
// cache keeps serving while it moves.
#include "agent/server_client.h"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <thread>

#include "agent/sync_loop.h"
#include "common/csr.h"
#include "common/file_util.h"
#include "tests/agent/agent_server_harness.h"
#include "tests/fakes/temp_dir.h"

using namespace std::chrono_literals;
using spinel::agent::IdentityCache;
using spinel::agent::SyncLoop;
using spinel::agent::testing::AgentApiHarness;
using spinel::agent::testing::AgentSide;

namespace {

bool Eventually(const std::function<bool()>& ready, std::chrono::milliseconds timeout = 20s) {
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

// A loopback address nothing listens on (bound once to get a free port, then closed).
std::string DeadAddress() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  socklen_t len = sizeof(addr);
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  ::close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

// Signs one X.509-SVID for `entry` through `client` (what the rotator does).
absl::Status SignOne(spinel::agent::ServerClient& client,
                     const spinel::server::RegistrationEntry& entry) {
  auto key = spinel::common::PrivateKey::Generate();
  REQUIRE(key.ok());
  auto csr = spinel::common::CreateCsrDer(*key, entry.spiffe_id, {});
  REQUIRE(csr.ok());
  auto signed_svids = client.SignX509Svids({{entry.id, *csr}});
  if (!signed_svids.ok()) return signed_svids.status();
  REQUIRE(signed_svids->size() == 1);
  return signed_svids->front().status;
}

}  // namespace

TEST_CASE("server client: attests at the next replica when the first is unreachable") {
  AgentApiHarness server;
  spinel::testing::TempDir dir;
  auto config = server.MakeAgentConfig(dir.path());
  const std::string dead = DeadAddress();
  config.servers = {dead, server.address()};
  config.join_token = server.JoinToken();
  AgentSide agent(config, server.fixture.clock);
  CHECK(agent.client->current_address() == dead);
  agent.Attest();
  CHECK(agent.client->current_address() == server.address());
  CHECK(agent.client->failovers() == 1);
}

TEST_CASE("server client: one server only never switches and reports UNAVAILABLE") {
  AgentApiHarness server;
  spinel::testing::TempDir dir;
  auto config = server.MakeAgentConfig(dir.path());
  config.servers = {DeadAddress()};
  config.join_token = server.JoinToken();
  AgentSide agent(config, server.fixture.clock);
  absl::Status established = agent.session->Establish();
  CHECK(absl::IsUnavailable(established));
  CHECK(agent.client->failovers() == 0);
}

TEST_CASE("sync loop: moves to the next replica when its server goes away, without re-attesting") {
  AgentApiHarness server;
  server.StartReplica();
  spinel::testing::TempDir dir;
  auto config = server.MakeAgentConfig(dir.path());
  config.servers = {server.address(), server.replica_address()};
  spinel::common::SpiffeId agent_id;
  config.join_token = server.JoinToken(&agent_id);
  AgentSide agent(config, server.fixture.clock);
  agent.Attest();
  const std::string svid_file = config.data_dir + "/agent-svid.pem";
  const std::string svid_before = *spinel::common::ReadFile(svid_file);
  auto kept =
      server.CreateEntry(agent_id, "spiffe://inference.ai.example.org/kept", {"unix:uid:1000"});
  IdentityCache cache;
  SyncLoop sync(agent.config, *agent.client, *agent.session, cache, server.fixture.clock);
  sync.Start();
  REQUIRE(Eventually([&] { return sync.connected(); }));
  CHECK(agent.client->current_address() == server.address());
  CHECK(SignOne(*agent.client, kept).ok());

  // The first replica goes away: the stream ends, the cache keeps serving, and the loop
  // reconnects to the second replica by itself.
  server.Stop();
  REQUIRE(Eventually([&] { return agent.client->current_address() == server.replica_address(); }));
  CHECK(HasEntry(cache, kept.id));
  REQUIRE(Eventually([&] { return sync.connected(); }));
  CHECK(agent.client->failovers() >= 1);

  // Sync and signing resume there, with the same agent SVID (the token was single-use, so a
  // re-attestation would have failed).
  auto pushed =
      server.CreateEntry(agent_id, "spiffe://tools.ai.example.org/pushed", {"unix:uid:1002"});
  CHECK(Eventually([&] { return HasEntry(cache, pushed.id); }));
  CHECK(SignOne(*agent.client, pushed).ok());
  CHECK(*spinel::common::ReadFile(svid_file) == svid_before);

  // And back when the second one goes away too and the first is up again.
  server.Start();
  server.StopReplica();
  REQUIRE(Eventually([&] { return agent.client->current_address() == server.address(); }));
  REQUIRE(Eventually([&] { return sync.connected(); }));
  CHECK(SignOne(*agent.client, kept).ok());
  sync.Stop();
}
