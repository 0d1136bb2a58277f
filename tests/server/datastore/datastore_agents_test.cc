// Contract tests for join tokens and attested agents, run against every backend.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/datastore/datastore.h"
#include "server/datastore/records.h"
#include "tests/server/datastore/datastore_test_util.h"

namespace spinel::server::testing {
namespace {

using std::chrono::seconds;

constexpr char kAgent[] = "spiffe://control.example.org/spinel/agent/join_token/a1";
constexpr char kToken[] = "3f1c9a27-token-secret";

TEST_CASE_TEMPLATE("join tokens: stored as a hash, consumed exactly once", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  auto created = ds.CreateJoinToken(kToken, Id(kAgent), 1'800'000'600);
  REQUIRE(created.ok());
  CHECK(created->token_hash == Sha256Hex(kToken));
  CHECK(created->token_hash.size() == 64);
  CHECK_FALSE(created->used_at.has_value());
  CHECK(ds.CreateJoinToken(kToken, Id(kAgent), 1'800'000'600).status().code() ==
        absl::StatusCode::kAlreadyExists);

  backend.clock.Advance(seconds(10));
  auto consumed = ds.ConsumeJoinToken(kToken);
  REQUIRE_MESSAGE(consumed.ok(), std::string(consumed.status().message()));
  CHECK(consumed->agent_id == Id(kAgent));
  CHECK(consumed->used_at == 1'800'000'010);

  auto again = ds.ConsumeJoinToken(kToken);
  CHECK(again.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(again.status().message(), "already used"));
  CHECK(Contains(again.status().message(), kAgent));
  CHECK_FALSE(Contains(again.status().message(), kToken));

  auto unknown = ds.ConsumeJoinToken("never-issued");
  CHECK(unknown.status().code() == absl::StatusCode::kNotFound);
  CHECK_FALSE(Contains(unknown.status().message(), "never-issued"));

  CHECK(ds.CreateJoinToken("", Id(kAgent), 1).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ds.CreateJoinToken("x", {}, 1).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE_TEMPLATE("join tokens: an expired token is refused and can be pruned", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.CreateJoinToken("short", Id(kAgent), 1'800'000'060).ok());
  REQUIRE(ds.CreateJoinToken("long", Id(kAgent), 1'800'086'400).ok());
  backend.clock.Advance(seconds(60));  // now == expires_at: expired
  auto expired = ds.ConsumeJoinToken("short");
  CHECK(expired.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(expired.status().message(), "expired at 1800000060"));

  CHECK(*ds.PruneJoinTokens(1'800'000'061) == 1);
  CHECK(ds.ConsumeJoinToken("short").status().code() == absl::StatusCode::kNotFound);
  CHECK(ds.ConsumeJoinToken("long").ok());
}

TEST_CASE_TEMPLATE("join tokens: concurrent consumes, exactly one succeeds", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  constexpr int kTokens = 10;
  constexpr int kThreads = 8;
  for (int t = 0; t < kTokens; ++t) {
    REQUIRE(ds.CreateJoinToken("tok" + std::to_string(t), Id(kAgent), 1'900'000'000).ok());
  }
  std::atomic<int> wins[kTokens] = {};
  std::atomic<int> other_errors = 0;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int t = 0; t < kTokens; ++t) {
        auto r = ds.ConsumeJoinToken("tok" + std::to_string(t));
        if (r.ok()) {
          ++wins[t];
        } else if (r.status().code() != absl::StatusCode::kFailedPrecondition) {
          ++other_errors;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int t = 0; t < kTokens; ++t) CHECK(wins[t].load() == 1);
  CHECK(other_errors.load() == 0);
}

TEST_CASE_TEMPLATE("agents: create, get, update, list", B, SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  AttestedAgent agent = MakeAgent(kAgent);
  agent.selectors = Selectors({"x509pop:subject:cn:node1", "join_token:abc"});
  auto created = ds.CreateAttestedAgent(agent);
  REQUIRE_MESSAGE(created.ok(), std::string(created.status().message()));
  CHECK(created->selectors == Selectors({"join_token:abc", "x509pop:subject:cn:node1"}));
  CHECK(created->created_at == 1'800'000'000);
  CHECK_FALSE(created->banned);
  CHECK(*ds.GetAttestedAgent(Id(kAgent)) == *created);
  auto dup = ds.CreateAttestedAgent(agent);
  CHECK(dup.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(dup.status().message() == std::string("agent \"") + kAgent + "\" already exists");

  backend.clock.Advance(seconds(30));
  AttestedAgent renewed = *created;
  renewed.serial_number = "02cd";
  renewed.svid_expires_at = 1'800'007'200;
  auto updated = ds.UpdateAttestedAgent(renewed);
  REQUIRE(updated.ok());
  CHECK(updated->serial_number == "02cd");
  CHECK(updated->created_at == 1'800'000'000);
  CHECK(updated->updated_at == 1'800'000'030);
  CHECK(*ds.GetAttestedAgent(Id(kAgent)) == *updated);

  REQUIRE(ds.CreateAttestedAgent(
                MakeAgent("spiffe://control.example.org/spinel/agent/x509pop/n2", "x509pop"))
              .ok());
  CHECK(ds.ListAttestedAgents({})->size() == 2);
  auto pop = ds.ListAttestedAgents({.attestation_type = "x509pop"});
  REQUIRE(pop->size() == 1);
  CHECK((*pop)[0].attestation_type == "x509pop");
  CHECK(ds.GetAttestedAgent(Id("spiffe://control.example.org/none")).status().message() ==
        "agent \"spiffe://control.example.org/none\" not found");
  AttestedAgent bad = MakeAgent(kAgent, "no spaces");
  CHECK(ds.UpdateAttestedAgent(bad).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE_TEMPLATE("agents: ban survives renewal; evict deletes", B, SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  REQUIRE(ds.CreateAttestedAgent(MakeAgent(kAgent)).ok());
  auto banned = ds.SetAgentBanned(Id(kAgent), true);
  REQUIRE(banned.ok());
  CHECK(banned->banned);
  CHECK(ds.GetAttestedAgent(Id(kAgent))->banned);
  // A renewal does not lift the ban.
  auto renewed = ds.UpdateAttestedAgent(MakeAgent(kAgent));
  REQUIRE(renewed.ok());
  CHECK(renewed->banned);
  CHECK(ds.ListAttestedAgents({.banned = true})->size() == 1);
  CHECK(ds.ListAttestedAgents({.banned = false})->empty());
  CHECK_FALSE(ds.SetAgentBanned(Id(kAgent), false)->banned);

  CHECK(ds.DeleteAttestedAgent(Id(kAgent)).ok());
  CHECK(ds.GetAttestedAgent(Id(kAgent)).status().code() == absl::StatusCode::kNotFound);
  CHECK(ds.DeleteAttestedAgent(Id(kAgent)).code() == absl::StatusCode::kNotFound);
  CHECK(ds.SetAgentBanned(Id(kAgent), true).status().code() == absl::StatusCode::kNotFound);
  // Evicted: it may attest again.
  CHECK(ds.CreateAttestedAgent(MakeAgent(kAgent)).ok());
}

}  // namespace
}  // namespace spinel::server::testing
