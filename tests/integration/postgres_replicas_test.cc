// Several spinel-server replicas on one PostgreSQL database (issue 9), with real processes: two
// servers share a throwaway PostgreSQL cluster (tests/server/datastore/postgres_cluster.h), an
// agent attests to replica B with a join token made on replica A, and entries created or
// deleted through A reach B's agent and its workload, pushed through the database (LISTEN/
// NOTIFY: the servers do not poll the datastore); and B's change feed wakes only the sync
// streams of the agents an entry made through A concerns (B's spinel_sync_stream_refreshes_total).
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/integration/agent_process_util.h"
#include "tests/integration/process_util.h"
#include "tests/server/datastore/postgres_cluster.h"

namespace {

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::ParseJsonOutput;
using spinel::testing::PostgresCluster;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;
using spinel::testing::UseDatastore;

constexpr int kWorkloadUid = 4111;
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";

// The views `server`'s sync streams recomputed on wake-ups so far (its /metrics over HTTPS).
double SyncRefreshes(const ServerProcess& server) {
  using spinel::testing::ShellQuote;
  const std::string address =
      spinel::testing::TrimLine(spinel::testing::ReadWholeFile(server.data_dir() + "/https.addr"));
  CommandResult metrics =
      spinel::testing::RunCommand("curl -sSk " + ShellQuote("https://" + address + "/metrics"));
  REQUIRE_MESSAGE(metrics.exit_code == 0, metrics.Describe());
  std::istringstream lines(metrics.out);
  const std::string name = "spinel_sync_stream_refreshes_total ";
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(name, 0) == 0) return std::stod(line.substr(name.size()));
  }
  return 0;  // none yet
}

// Registers `spiffe_id` for `uid` under `agent_id` through `via` and waits until `agent`
// serves it to that uid.
void RegisterAndAwait(const ServerProcess& via, AgentProcess& agent, const std::string& spiffe_id,
                      const std::string& agent_id, int uid) {
  spinel::testing::Register(via, spiffe_id, agent_id, uid);
  CommandResult fetched;
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        fetched = agent.Api("api fetch x509", uid);
                        return fetched.exit_code == 0;
                      },
                      std::chrono::seconds(30)),
                  spiffe_id << ": " << fetched.Describe() << "\nagent:\n"
                            << agent.Log());
}

}  // namespace

TEST_CASE("postgres replicas: a token and entries made through A reach an agent on B") {
  PostgresCluster& cluster = PostgresCluster::Shared();
  const std::string uri = cluster.Uri("", cluster.NewDatabase());
  TempDir dir_a, dir_b, dir_agent;
  ServerProcess a(dir_a), b(dir_b);
  UseDatastore(dir_a, uri);
  UseDatastore(dir_b, uri);
  a.Start();
  b.Start();
  CHECK_FALSE(std::filesystem::exists(a.data_dir() + "/datastore.sqlite3"));

  // The join token is stored by A and consumed by B.
  auto [token, agent_id] = spinel::testing::NewJoinToken(a);
  AgentProcess agent(dir_agent, b);
  agent.Start(token);
  json agents = ParseJsonOutput(a.Cli("agent list --output json"));
  CHECK_MESSAGE(Contains(agents.dump(), agent_id), agents.dump());

  // Nothing registered yet: the workload is refused.
  CommandResult none = agent.Api("api fetch x509", kWorkloadUid);
  CHECK_MESSAGE(none.exit_code == 1, none.Describe());

  // An entry created through A reaches the workload of B's agent.
  const std::string entry_id = spinel::testing::Register(a, kModel, agent_id, kWorkloadUid);
  const auto created = std::chrono::steady_clock::now();
  CommandResult fetched;
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        fetched = agent.Api("api fetch x509 --output json", kWorkloadUid);
                        return fetched.exit_code == 0;
                      },
                      std::chrono::seconds(20)),
                  fetched.Describe() << "\nagent:\n"
                                     << agent.Log() << "\nB:\n"
                                     << b.Log());
  // Reported, not asserted (timings belong to benchmarks): polled by a new `api fetch` process
  // every 50 ms, so this is an upper bound.
  MESSAGE("entry created through A served by B's agent after "
          << std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::steady_clock::now() - created)
                 .count()
          << "ms");
  json x509 = ParseJsonOutput(fetched);
  REQUIRE(x509["svids"].size() == 1);
  CHECK(x509["svids"][0]["spiffe_id"] == kModel);

  // Deleted through A: B's agent stops serving it.
  CommandResult deleted = a.Cli("entry delete --id " + entry_id);
  REQUIRE_MESSAGE(deleted.exit_code == 0, deleted.Describe());
  CommandResult after;
  CHECK_MESSAGE(spinel::testing::WaitFor(
                    [&] {
                      after = agent.Api("api fetch x509", kWorkloadUid);
                      return after.exit_code != 0;
                    },
                    std::chrono::seconds(20)),
                after.Describe() << "\nagent:\n"
                                 << agent.Log());
  // B lists what A wrote, and the audit chain both appended to is intact.
  CommandResult verify = b.Cli("audit verify");
  CHECK_MESSAGE(verify.exit_code == 0, verify.Describe());
  agent.Kill();
  b.Kill(SIGTERM);
  a.Kill(SIGTERM);
}

TEST_CASE("postgres replicas: an entry made through A wakes on B only the streams it concerns") {
  PostgresCluster& cluster = PostgresCluster::Shared();
  const std::string uri = cluster.Uri("", cluster.NewDatabase());
  TempDir dir_a, dir_b, dir_x, dir_y;
  ServerProcess a(dir_a), b(dir_b);
  UseDatastore(dir_a, uri);
  UseDatastore(dir_b, uri);
  a.Start();
  b.Start();
  auto [token_x, x_id] = spinel::testing::NewJoinToken(a);
  auto [token_y, y_id] = spinel::testing::NewJoinToken(a);
  AgentProcess x(dir_x, b), y(dir_y, b);
  x.Start(token_x);
  y.Start(token_y);
  // Both streams on B hold a view (so they know their parents) and every wake-up of the set-up
  // (attestations wake every stream) is over: B's hub runs its passes one after another, and
  // y's last entry came through a pass after all of them.
  RegisterAndAwait(a, x, "spiffe://inference.ai.example.org/x0", x_id, 4110);
  RegisterAndAwait(a, y, "spiffe://inference.ai.example.org/y0", y_id, 4111);
  const double before = SyncRefreshes(b);

  // Each entry, made through A, reaches its agent on B through B's change feed, and recomputes
  // only that agent's view: one refresh each. A wake of the other stream by the first two
  // would be counted by the time the third arrived (a later pass).
  RegisterAndAwait(a, x, "spiffe://inference.ai.example.org/x1", x_id, 4112);
  RegisterAndAwait(a, y, "spiffe://inference.ai.example.org/y1", y_id, 4113);
  RegisterAndAwait(a, x, "spiffe://inference.ai.example.org/x2", x_id, 4114);
  const double after = SyncRefreshes(b);
  CHECK_MESSAGE(after - before == 3, "B recomputed " << after - before
                                                     << " views for 3 targeted entries\nB:\n"
                                                     << b.Log());
  x.Kill();
  y.Kill();
  b.Kill(SIGTERM);
  a.Kill(SIGTERM);
}
