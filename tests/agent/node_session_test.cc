// agent/node_session against the real server agent API (in process, fake clock): attestation
// with a join token, the persisted agent SVID reused on restart without a token, renewal at
// half-life +-10%, and the errors when no attestation is possible.
#include "agent/node_session.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <set>

#include "common/certificate.h"
#include "common/file_util.h"
#include "tests/agent/agent_server_harness.h"
#include "tests/fakes/temp_dir.h"

using namespace std::chrono_literals;
using spinel::agent::AgentConfig;
using spinel::agent::NodeSession;
using spinel::agent::RenewalTime;
using spinel::agent::testing::AgentApiHarness;
using spinel::agent::testing::AgentSide;

namespace {

int Mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<int>(st.st_mode & 0777);
}

// True when the renewal time lies within half the lifetime +-10% of that half, the lifetime
// being the validity of the agent SVID stored in `data_dir` (its notBefore is backdated by the
// server, so it is not its notAfter minus the TTL).
bool WithinRenewalWindow(spinel::common::TimePoint renew_at, const std::string& data_dir) {
  auto chain = spinel::common::Certificate::ParsePemChain(
      spinel::common::ReadFile(data_dir + "/agent-svid.pem").value());
  REQUIRE(chain.ok());
  const auto not_before = chain->front().NotBefore();
  const auto half = (chain->front().NotAfter() - not_before) / 2;
  const auto slack = half / 10 + 1s;  // +1s: certificate times are whole seconds
  return renew_at >= not_before + half - slack && renew_at <= not_before + half + slack;
}

}  // namespace

TEST_CASE("node session: attests with a join token and persists the SVID privately") {
  AgentApiHarness server;
  spinel::testing::TempDir dir;
  AgentConfig config = server.MakeAgentConfig(dir.path());
  spinel::common::SpiffeId expected;
  config.join_token = server.JoinToken(&expected);
  AgentSide agent(config, server.fixture.clock);

  absl::Status established = agent.session->Establish();
  REQUIRE_MESSAGE(established.ok(), established.ToString());
  CHECK(agent.session->agent_id() == expected);
  CHECK(Mode(config.data_dir + "/agent-svid.pem") == 0600);
  CHECK(Mode(config.data_dir + "/agent-svid.key") == 0600);
  CHECK(spinel::common::FileExists(config.data_dir + "/control-bundle.pem"));
  const auto expires = agent.session->expires_at();
  CHECK(expires > server.fixture.clock.Now() + 50min);  // the server's 1h agent SVID TTL
  CHECK(WithinRenewalWindow(agent.session->renew_at(), config.data_dir));

  // The identity works: the server signs for this agent (an empty batch is still an
  // authenticated call).
  auto signed_svids = agent.client->SignX509Svids({});
  CHECK_MESSAGE(signed_svids.ok(), signed_svids.status().ToString());
}

TEST_CASE("node session: a restart reuses the persisted SVID and needs no join token") {
  AgentApiHarness server;
  spinel::testing::TempDir dir;
  AgentConfig config = server.MakeAgentConfig(dir.path());
  config.join_token = server.JoinToken();
  spinel::common::SpiffeId first_id;
  spinel::common::TimePoint first_expiry;
  {
    AgentSide first(config, server.fixture.clock);
    REQUIRE(first.session->Establish().ok());
    first_id = first.session->agent_id();
    first_expiry = first.session->expires_at();
  }
  const std::string persisted =
      spinel::common::ReadFile(config.data_dir + "/agent-svid.pem").value();

  config.join_token.clear();  // the token is used up anyway
  server.fixture.clock.Advance(5min);
  AgentSide second(config, server.fixture.clock);
  absl::Status established = second.session->Establish();
  REQUIRE_MESSAGE(established.ok(), established.ToString());
  CHECK(second.session->agent_id() == first_id);
  CHECK(second.session->expires_at() == first_expiry);  // the same SVID, not a new one
  CHECK(spinel::common::ReadFile(config.data_dir + "/agent-svid.pem").value() == persisted);
  auto signed_svids = second.client->SignX509Svids({});
  CHECK_MESSAGE(signed_svids.ok(), signed_svids.status().ToString());
}

TEST_CASE("node session: renews at half-life and keeps its identity") {
  AgentApiHarness server;
  spinel::testing::TempDir dir;
  AgentConfig config = server.MakeAgentConfig(dir.path());
  config.join_token = server.JoinToken();
  AgentSide agent(config, server.fixture.clock);
  REQUIRE(agent.session->Establish().ok());
  const auto id = agent.session->agent_id();
  const auto renew_at = agent.session->renew_at();
  const auto first_expiry = agent.session->expires_at();
  const std::string first_pem =
      spinel::common::ReadFile(config.data_dir + "/agent-svid.pem").value();

  server.fixture.clock.Set(renew_at - 1s);
  auto early = agent.session->RenewIfDue();
  REQUIRE(early.ok());
  CHECK_FALSE(*early);

  server.fixture.clock.Set(renew_at);
  auto renewed = agent.session->RenewIfDue();
  REQUIRE_MESSAGE(renewed.ok(), renewed.status().ToString());
  CHECK(*renewed);
  CHECK(agent.session->agent_id() == id);
  CHECK(agent.session->expires_at() > first_expiry);
  CHECK(agent.session->renew_at() > renew_at);
  CHECK(WithinRenewalWindow(agent.session->renew_at(), config.data_dir));
  CHECK(spinel::common::ReadFile(config.data_dir + "/agent-svid.pem").value() != first_pem);
  // The new SVID is the one presented from now on.
  CHECK(agent.client->SignX509Svids({}).ok());

  // Past the old SVID's expiry the renewed one still serves, and a restart picks it up.
  server.fixture.clock.Set(first_expiry + 1s);
  server.RenewServerSvid();
  CHECK(agent.client->SignX509Svids({}).ok());
  config.join_token.clear();
  AgentSide restarted(config, server.fixture.clock);
  REQUIRE(restarted.session->Establish().ok());
  CHECK(restarted.session->agent_id() == id);
  CHECK(restarted.session->expires_at() == agent.session->expires_at());
}

TEST_CASE("node session: without a valid SVID or usable token it says what is needed") {
  AgentApiHarness server;
  spinel::testing::TempDir dir;
  AgentConfig config = server.MakeAgentConfig(dir.path());

  SUBCASE("no token at all") {
    AgentSide agent(config, server.fixture.clock);
    absl::Status status = agent.session->Establish();
    CHECK(absl::IsFailedPrecondition(status));
    CHECK_MESSAGE(status.message().find("join token") != std::string::npos, status.ToString());
    CHECK_FALSE(spinel::common::FileExists(config.data_dir + "/agent-svid.pem"));
  }
  SUBCASE("a token already used by another node") {
    config.join_token = server.JoinToken();
    spinel::testing::TempDir other;
    AgentConfig other_config = server.MakeAgentConfig(other.path());
    other_config.join_token = config.join_token;
    AgentSide first(other_config, server.fixture.clock);
    REQUIRE(first.session->Establish().ok());
    AgentSide second(config, server.fixture.clock);
    absl::Status status = second.session->Establish();
    CHECK(absl::IsPermissionDenied(status));
    CHECK_MESSAGE(status.message().find("node attestation failed") != std::string::npos,
                  status.ToString());
    CHECK(status.message().find(config.join_token) == std::string::npos);  // never echoed
  }
  SUBCASE("a token from a file, trimmed") {
    config.join_token_file = dir.Write("token.txt", server.JoinToken() + "\n");
    AgentSide agent(config, server.fixture.clock);
    absl::Status status = agent.session->Establish();
    CHECK_MESSAGE(status.ok(), status.ToString());
  }
  SUBCASE("the persisted SVID expired: join_token agents need a new token") {
    config.join_token = server.JoinToken();
    AgentSide agent(config, server.fixture.clock);
    REQUIRE(agent.session->Establish().ok());
    server.fixture.clock.Set(agent.session->expires_at() + 1s);
    server.RenewServerSvid();
    auto renewed = agent.session->RenewIfDue();
    CHECK(absl::IsFailedPrecondition(renewed.status()));
    CHECK_MESSAGE(renewed.status().message().find("new token") != std::string::npos,
                  renewed.status().ToString());

    config.join_token.clear();
    AgentSide restarted(config, server.fixture.clock);
    CHECK(absl::IsFailedPrecondition(restarted.session->Establish()));
    config.join_token = server.JoinToken();
    AgentSide fresh(config, server.fixture.clock);
    CHECK(fresh.session->Establish().ok());
  }
}

TEST_CASE("node session: RenewalTime is half the lifetime, jittered by up to 10% of it") {
  const auto not_before = spinel::common::FromUnixSeconds(1'800'000'000);
  const auto not_after = not_before + 1h;
  std::set<spinel::common::TimePoint::rep> seen;
  auto earliest = not_after;
  auto latest = not_before;
  for (int i = 0; i < 2000; ++i) {
    auto t = RenewalTime(not_before, not_after);
    REQUIRE(t >= not_before + 27min);  // 30min - 10%
    REQUIRE(t <= not_before + 33min);  // 30min + 10%
    seen.insert(t.time_since_epoch().count());
    earliest = std::min(earliest, t);
    latest = std::max(latest, t);
  }
  CHECK(seen.size() > 1000);  // jittered, not one fixed time
  // Both sides of the half-life are used, most of the window is covered.
  CHECK(earliest < not_before + 28min);
  CHECK(latest > not_before + 32min);
}
