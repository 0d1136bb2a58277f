// Figure 6: the server at scale. One real spinel-server process; simulated agents
// (bench/support/load_agent.h, all in this process) attest with join tokens; the entries are
// spread evenly over them and created through the admin API in batches of 1,000. Then:
//   1. the server is stopped (SIGTERM) and started again on the same port, and every agent
//      opens its Sync stream as soon as the server answers: the time from the start of the
//      server process until every agent holds its full set (all its entries in a snapshot);
//   2. the server's peak RSS (VmHWM) and its CPU time for that start;
//   3. fan-out: one entry is created for one agent (admin API), repeatedly; the time from the
//      call to that agent's Sync stream delivering it, p50/p99 (goal p99 < 1 s).
// Then the same fan-out across replicas: two spinel-server processes (A and B) on one
// PostgreSQL database (a throwaway cluster, tests/support/postgres_server.h); the agents attest
// to and sync from B, every entry is created through A's admin API, and the time is from A's
// call to the agent's stream on B delivering it (A's commit -> NOTIFY -> B's change feed reads
// the change log -> wakes only that agent's stream): replica_fanout_p50/p99.
#include <cstdio>
#include <thread>

#include "bench/support/limits.h"
#include "bench/support/load_agent.h"
#include "bench/support/load_figure.h"
#include "bench/support/load_processes.h"
#include "bench/support/report.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "tests/support/postgres_server.h"

namespace spinel::bench {
namespace {

using common::StrCat;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Sizes {
  int agents = 1000;
  int entries = 100000;
  int changes = 200;
  int replica_agents = 1000;
  int replica_entries = 100000;
};

absl::StatusOr<std::vector<std::unique_ptr<SimAgent>>> AttestAgents(const LoadServer& server,
                                                                    int count) {
  SPINEL_ASSIGN_OR_RETURN(std::string control_pem, server.ControlBundlePem());
  std::vector<std::unique_ptr<SimAgent>> agents(count);
  std::vector<std::pair<std::string, std::string>> tokens;
  for (int i = 0; i < count; ++i) {
    SPINEL_ASSIGN_OR_RETURN(auto token, server.JoinToken());
    tokens.push_back(token);
  }
  spinel::common::Mutex mutex;
  absl::Status error;
  std::vector<std::thread> threads;
  constexpr int kThreads = 4;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < count; i += kThreads) {
        auto agent = SimAgent::Attest(server.agent_api_address(), control_pem, tokens[i].first);
        spinel::common::MutexLock lock(mutex);
        if (!agent.ok())
          error = agent.status();
        else
          agents[i] = *std::move(agent);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  SPINEL_RETURN_IF_ERROR(error);
  return agents;
}

// Entry i belongs to agent i % agents.
std::vector<spinel::v1::Entry> SpreadEntries(const std::vector<std::unique_ptr<SimAgent>>& agents,
                                             int count) {
  std::vector<spinel::v1::Entry> entries;
  entries.reserve(count);
  for (int i = 0; i < count; ++i) {
    entries.push_back(MakeEntry(StrCat("spiffe://inference.ai.example.org/bench/scale-", i),
                                agents[i % agents.size()]->id(), 1000 + i % 50));
  }
  return entries;
}

using Agents = std::vector<std::unique_ptr<SimAgent>>;

// Opens every agent's Sync stream (`entries` spread as SpreadEntries does) and waits until
// every agent held its full set; the time the last one got it.
absl::StatusOr<Clock::time_point> SyncFullSets(Agents& agents, int entries) {
  for (size_t i = 0; i < agents.size(); ++i) {
    agents[i]->ExpectEntries(entries / agents.size() + (i < entries % agents.size() ? 1 : 0));
    agents[i]->StartSync();
  }
  WaitFor(
      [&] {
        for (const auto& agent : agents) {
          if (!agent->sync_status().ok()) return true;
          if (!agent->FullAt()) return false;
        }
        return true;
      },
      std::chrono::minutes(10));
  Clock::time_point last_full{};
  for (const auto& agent : agents) {
    SPINEL_RETURN_IF_ERROR(agent->sync_status());
    if (!agent->FullAt()) {
      return absl::DeadlineExceededError(StrCat(
          agent->id(), " did not get its full set in 10 min (", agent->EntryCount(), " entries)"));
    }
    last_full = std::max(last_full, *agent->FullAt());
  }
  return last_full;
}

// Restarts the server and opens every agent's Sync stream as soon as it answers; the seconds
// from the server's start until every agent held its full set, and until it was ready.
absl::StatusOr<std::pair<double, double>> RestartAndSync(LoadServer& server, Agents& agents,
                                                         int entries) {
  server.Stop();
  const Clock::time_point start = Clock::now();
  SPINEL_RETURN_IF_ERROR(server.Start(std::chrono::minutes(5)));
  const Clock::time_point ready = Clock::now();
  SPINEL_ASSIGN_OR_RETURN(Clock::time_point last_full, SyncFullSets(agents, entries));
  return std::make_pair(Seconds(last_full - start), Seconds(ready - start));
}

// Creates one entry for one agent at a time; milliseconds until that agent's stream had it.
absl::StatusOr<Samples> FanOut(spinel::v1::AdminService::Stub& admin, const Agents& agents,
                               int changes) {
  Samples fanout_ms;
  for (int c = 0; c < changes; ++c) {
    SimAgent& agent = *agents[(c * 7919) % agents.size()];
    const std::string id = StrCat("spiffe://inference.ai.example.org/bench/change-", c);
    const Clock::time_point at = Clock::now();
    SPINEL_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                            CreateEntries(admin, {MakeEntry(id, agent.id(), 1000)}));
    std::optional<SteadyTime> seen = agent.WaitForEntry(ids[0], std::chrono::seconds(30));
    if (!seen) return absl::DeadlineExceededError(StrCat("change ", c, " did not reach its agent"));
    fanout_ms.Add(std::chrono::duration<double, std::milli>(*seen - at).count());
  }
  return fanout_ms;
}

// The fan-out across two replicas on one PostgreSQL database (see the header).
absl::StatusOr<Samples> ReplicaFanOut(const Sizes& sizes) {
  SPINEL_ASSIGN_OR_RETURN(auto postgres, spinel::testing::PostgresServer::Start());
  SPINEL_ASSIGN_OR_RETURN(std::string database, postgres->NewDatabase());
  LoadServerOptions options;
  options.extra_config = StrCat("datastore: \"", postgres->Uri("", database), "\"\n");
  TempDir dir_a, dir_b;
  LoadServer a(dir_a, options), b(dir_b, options);
  SPINEL_RETURN_IF_ERROR(a.Start());
  SPINEL_RETURN_IF_ERROR(b.Start());
  SPINEL_ASSIGN_OR_RETURN(Agents agents, AttestAgents(b, sizes.replica_agents));
  SPINEL_RETURN_IF_ERROR(
      CreateEntries(*a.Admin(), SpreadEntries(agents, sizes.replica_entries)).status());
  SPINEL_RETURN_IF_ERROR(SyncFullSets(agents, sizes.replica_entries).status());
  std::fprintf(stderr, "replicas: %d agents on B hold their %d entries made through A\n",
               sizes.replica_agents, sizes.replica_entries);
  SPINEL_ASSIGN_OR_RETURN(Samples fanout_ms, FanOut(*a.Admin(), agents, sizes.changes));
  for (auto& agent : agents) agent->StopSync();
  b.Stop();
  a.Stop();
  return fanout_ms;
}

// The single-server figures (1-3 of the header).
absl::Status SingleServer(const CommonFlags& flags, const Sizes& sizes, Report& report) {
  TempDir dir;
  LoadServer server(dir, {});
  SPINEL_RETURN_IF_ERROR(server.Start());
  SPINEL_ASSIGN_OR_RETURN(Agents agents, AttestAgents(server, sizes.agents));
  std::fprintf(stderr, "attested %d agents\n", sizes.agents);
  const Clock::time_point create_start = Clock::now();
  SPINEL_RETURN_IF_ERROR(
      CreateEntries(*server.Admin(), SpreadEntries(agents, sizes.entries)).status());
  const double create_s = Seconds(Clock::now() - create_start);
  std::fprintf(stderr, "created %d entries in %.1f s\n", sizes.entries, create_s);
  SPINEL_ASSIGN_OR_RETURN(auto synced_s, RestartAndSync(server, agents, sizes.entries));
  SPINEL_ASSIGN_OR_RETURN(ProcessUsage synced, ReadUsage(server.pid()));
  SPINEL_ASSIGN_OR_RETURN(Samples fanout_ms, FanOut(*server.Admin(), agents, sizes.changes));
  SPINEL_ASSIGN_OR_RETURN(ProcessUsage end, ReadUsage(server.pid()));
  for (auto& agent : agents) agent->StopSync();
  server.Stop();

  nlohmann::json params = flags.SizeParam();
  params.update({{"agents", sizes.agents},
                 {"entries", sizes.entries},
                 {"changes", sizes.changes},
                 {"server_ready_s", synced_s.second}});
  report.Add(MakeFigure("full_sets_after_start", synced_s.first, "s", params));
  report.Add(MakeFigure("server_cpu_start_and_sync", synced.cpu_seconds, "cpu-s", params));
  report.Add(MakeFigure("server_peak_rss", end.peak_rss_mb, "MB", params));
  report.Add(MakeFigure("entry_create_rate", sizes.entries / create_s, "entries/s", params));
  report.Add(MakeFigure("fanout_p50", fanout_ms.Median(), "ms", params));
  report.Add(MakeFigure("fanout_p99", fanout_ms.Percentile(99), "ms", params, "< 1000 ms"));
  return absl::OkStatus();
}

absl::Status Main(const CommonFlags& flags, Sizes sizes) {
  sizes.agents = flags.Pick(5, 100, sizes.agents);
  sizes.entries = flags.Pick(200, 10000, sizes.entries);
  sizes.changes = flags.Pick(5, 50, sizes.changes);
  sizes.replica_agents = flags.Pick(5, 100, sizes.replica_agents);
  sizes.replica_entries = flags.Pick(200, 10000, sizes.replica_entries);
  Report report("server_scale");
  SPINEL_RETURN_IF_ERROR(SingleServer(flags, sizes, report));
  SPINEL_ASSIGN_OR_RETURN(Samples replica_ms, ReplicaFanOut(sizes));
  nlohmann::json params = flags.SizeParam();
  params.update({{"replicas", 2},
                 {"datastore", "postgresql"},
                 {"agents", sizes.replica_agents},
                 {"entries", sizes.replica_entries},
                 {"changes", sizes.changes}});
  report.Add(MakeFigure("replica_fanout_p50", replica_ms.Median(), "ms", params));
  report.Add(
      MakeFigure("replica_fanout_p99", replica_ms.Percentile(99), "ms", params, "< 1000 ms"));
  return absl::OkStatus();
}

}  // namespace
}  // namespace spinel::bench

int main(int argc, char** argv) {
  CLI::App app{"Figure 6: server at scale with simulated agents"};
  spinel::bench::CommonFlags flags;
  spinel::bench::Sizes sizes;
  app.add_option("--agents", sizes.agents, "simulated agents (full size)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--entries", sizes.entries, "entries (full size)")->check(CLI::Range(1, 10000000));
  app.add_option("--changes", sizes.changes, "fan-out samples (full size)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--replica-agents", sizes.replica_agents,
                 "simulated agents on replica B (full size)")
      ->check(CLI::Range(1, 100000));
  app.add_option("--replica-entries", sizes.replica_entries,
                 "entries made through replica A (full size)")
      ->check(CLI::Range(1, 10000000));
  if (auto exit_code = spinel::bench::ParseFlags(app, flags, argc, argv)) return *exit_code;
  absl::Status status = spinel::bench::Main(flags, sizes);
  if (!status.ok()) {
    std::fprintf(stderr, "server_scale_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
