// Figure 5: rotation at scale. One real spinel-server and one real spinel-agent; the entries
// (short X.509 TTL) are spread over a few worker processes, each running as its own uid
// (setpriv; this program re-executed in --watch mode) with one FetchX509SVID stream open on the
// agent's socket. Every worker checks every SVID of every message it receives against the wall
// clock (bench/support/load_workload.h): none may be served expired. Once every worker holds its
// full set, the run lasts the chosen time while the agent renews every SVID at about half its
// lifetime.
//
// Figures: SVIDs served expired (goal 0), rotations seen, agent CPU seconds and peak RSS (goal
// < 100 MB), server CPU seconds over the run, and the time to first issue every SVID.
// Not running as root, the workers run as this uid instead (one worker).
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "bench/support/limits.h"
#include "bench/support/load_figure.h"
#include "bench/support/load_processes.h"
#include "bench/support/load_workload.h"
#include "bench/support/report.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::bench {
namespace {

using common::StrCat;
using Clock = std::chrono::steady_clock;

struct Options {
  int entries = 5000;
  int ttl_s = 60;
  double minutes = 10;
  int workers = 10;
};

constexpr int kFirstWorkerUid = 61000;

// --watch mode: serve until SIGTERM, then print the stats as one JSON line.
int WatchMain(const std::string& socket, int min_svids) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // before any thread starts
  auto watcher = WatchWhenServed(socket, static_cast<size_t>(min_svids), std::chrono::minutes(10));
  if (!watcher.ok()) {
    std::printf("{\"error\":%s}\n", nlohmann::json(watcher.status().ToString()).dump().c_str());
    return 1;
  }
  std::printf("ready\n");
  std::fflush(stdout);
  int signal = 0;
  sigwait(&set, &signal);
  WatchStats stats = (*watcher)->Stats();
  (*watcher)->Stop();
  nlohmann::json out = {{"messages", stats.messages},
                        {"svids_checked", stats.svids_checked},
                        {"served_expired", stats.served_expired},
                        {"rotations", stats.rotations},
                        {"min_remaining_s", stats.min_remaining_s},
                        {"ids", stats.ids},
                        {"error", stats.error}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

struct Worker {
  int uid = 0;
  int svids = 0;
  std::string log;
  std::unique_ptr<ChildProcess> process = std::make_unique<ChildProcess>();
};

absl::Status StartWorkers(const TempDir& dir, const std::string& socket,
                          std::vector<Worker>& workers) {
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return absl::InternalError("cannot read /proc/self/exe");
  const std::string binary(self, n);
  for (size_t w = 0; w < workers.size(); ++w) {
    Worker& worker = workers[w];
    worker.log = dir.File(StrCat("worker-", w, ".log"));
    std::vector<std::string> argv = {binary, "--watch", socket, "--watch-min",
                                     std::to_string(worker.svids)};
    if (::getuid() == 0) {
      const std::string id = std::to_string(worker.uid);
      argv.insert(argv.begin(),
                  {"/usr/bin/setpriv", "--reuid", id, "--regid", id, "--clear-groups"});
    }
    SPINEL_RETURN_IF_ERROR(worker.process->Start(argv, worker.log));
  }
  for (Worker& worker : workers) {
    const bool ready = WaitFor(
        [&] {
          return !worker.process->Running() ||
                 ReadWholeFile(worker.log).find("ready") != std::string::npos;
        },
        std::chrono::minutes(10), std::chrono::milliseconds(100));
    if (!ready || !worker.process->Running()) {
      return absl::InternalError(
          StrCat("worker uid ", worker.uid, " not served: ", Tail(ReadWholeFile(worker.log))));
    }
  }
  return absl::OkStatus();
}

// Stops the workers and sums their stats.
absl::StatusOr<WatchStats> StopWorkers(std::vector<Worker>& workers) {
  WatchStats total;
  for (Worker& worker : workers) ::kill(worker.process->pid(), SIGTERM);
  for (Worker& worker : workers) {
    if (!WaitFor([&] { return !worker.process->Running(); }, std::chrono::seconds(30))) {
      worker.process->Kill(SIGKILL);
    }
    std::istringstream lines(ReadWholeFile(worker.log));
    std::string line, last;
    while (std::getline(lines, line)) {
      if (!line.empty() && line[0] == '{') last = line;
    }
    nlohmann::json stats = nlohmann::json::parse(last, nullptr, false);
    if (stats.is_discarded() || !stats.contains("messages")) {
      return absl::InternalError(StrCat("worker uid ", worker.uid,
                                        " reported nothing: ", Tail(ReadWholeFile(worker.log))));
    }
    if (!stats["error"].get<std::string>().empty()) {
      return absl::InternalError(
          StrCat("worker uid ", worker.uid, " stream ended: ", stats["error"].get<std::string>()));
    }
    total.messages += stats["messages"].get<int64_t>();
    total.svids_checked += stats["svids_checked"].get<int64_t>();
    total.served_expired += stats["served_expired"].get<int64_t>();
    total.rotations += stats["rotations"].get<int64_t>();
    const int64_t min_remaining = stats["min_remaining_s"].get<int64_t>();
    if (min_remaining >= 0 &&
        (total.min_remaining_s < 0 || min_remaining < total.min_remaining_s)) {
      total.min_remaining_s = min_remaining;
    }
  }
  return total;
}

// Everything the run starts; destroyed (killed) in reverse order: workers, agent, server.
struct Fleet {
  std::unique_ptr<TempDir> dir = std::make_unique<TempDir>();
  std::unique_ptr<LoadServer> server;
  std::unique_ptr<LoadAgentProcess> agent;
  std::vector<Worker> workers;
  double first_issue_s = 0;
};

absl::StatusOr<std::unique_ptr<Fleet>> SetUp(const Options& options) {
  auto fleet = std::make_unique<Fleet>();
  fleet->server = std::make_unique<LoadServer>(*fleet->dir, LoadServerOptions{});
  SPINEL_RETURN_IF_ERROR(fleet->server->Start());
  SPINEL_ASSIGN_OR_RETURN(auto token, fleet->server->JoinToken());
  fleet->agent = std::make_unique<LoadAgentProcess>(*fleet->dir, *fleet->server);
  SPINEL_RETURN_IF_ERROR(fleet->agent->Start(token.first));
  std::vector<Worker>& workers = fleet->workers;
  workers.resize(options.workers);
  for (int w = 0; w < options.workers; ++w) {
    workers[w].uid = ::getuid() == 0 ? kFirstWorkerUid + w : static_cast<int>(::getuid());
  }
  std::vector<spinel::v1::Entry> entries;
  for (int i = 0; i < options.entries; ++i) {
    Worker& worker = workers[i % options.workers];
    ++worker.svids;
    entries.push_back(MakeEntry(StrCat("spiffe://inference.ai.example.org/bench/rot-", i),
                                token.second, worker.uid, options.ttl_s));
  }
  const Clock::time_point issue_start = Clock::now();
  SPINEL_RETURN_IF_ERROR(CreateEntries(*fleet->server->Admin(), entries).status());
  SPINEL_RETURN_IF_ERROR(StartWorkers(*fleet->dir, fleet->agent->socket_path(), workers));
  fleet->first_issue_s = std::chrono::duration<double>(Clock::now() - issue_start).count();
  std::fprintf(stderr, "%d SVIDs served to %d workers after %.1f s\n", options.entries,
               options.workers, fleet->first_issue_s);
  return fleet;
}

// Lets the fleet run for `seconds`, failing as soon as any process dies.
absl::Status RunFor(Fleet& fleet, double seconds) {
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the run's length, not a sync
    if (!fleet.agent->Running()) {
      return absl::InternalError(StrCat("agent died: ", fleet.agent->LogTail()));
    }
    for (Worker& worker : fleet.workers) {
      if (!worker.process->Running()) {
        return absl::InternalError(
            StrCat("worker uid ", worker.uid, " exited: ", Tail(ReadWholeFile(worker.log))));
      }
    }
  }
  return absl::OkStatus();
}

void Publish(const CommonFlags& flags, const Options& options, const Fleet& fleet,
             const WatchStats& stats, double run_s, const ProcessUsage& agent,
             const ProcessUsage& server) {
  nlohmann::json params = flags.SizeParam();
  params.update({{"entries", options.entries},
                 {"ttl_s", options.ttl_s},
                 {"run_s", run_s},
                 {"workers", options.workers},
                 {"messages", stats.messages},
                 {"svids_checked", stats.svids_checked},
                 {"min_remaining_s", stats.min_remaining_s}});
  Report report("rotation");
  report.Add(MakeFigure("served_expired", static_cast<double>(stats.served_expired), "svids",
                        params, "== 0"));
  report.Add(MakeFigure("rotations_seen", static_cast<double>(stats.rotations), "svids", params));
  report.Add(MakeFigure("agent_cpu", agent.cpu_seconds, "cpu-s", params));
  report.Add(MakeFigure("agent_peak_rss", agent.peak_rss_mb, "MB", params, "< 100 MB"));
  report.Add(MakeFigure("server_cpu", server.cpu_seconds, "cpu-s", params));
  report.Add(MakeFigure("first_issue_all", fleet.first_issue_s, "s", params));
}

absl::Status Main(const CommonFlags& flags, Options options) {
  options.entries = flags.Pick(50, 1000, options.entries);
  options.ttl_s = flags.Pick(10, options.ttl_s, options.ttl_s);
  options.minutes = flags.Pick(20.0 / 60, 2.0, options.minutes);
  options.workers = flags.Pick(2, 4, options.workers);
  if (::getuid() != 0) options.workers = 1;
  SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<Fleet> fleet, SetUp(options));
  SPINEL_ASSIGN_OR_RETURN(ProcessUsage agent_before, ReadUsage(fleet->agent->pid()));
  SPINEL_ASSIGN_OR_RETURN(ProcessUsage server_before, ReadUsage(fleet->server->pid()));
  const Clock::time_point run_start = Clock::now();
  SPINEL_RETURN_IF_ERROR(RunFor(*fleet, options.minutes * 60));
  const double run_s = std::chrono::duration<double>(Clock::now() - run_start).count();
  SPINEL_ASSIGN_OR_RETURN(ProcessUsage agent, ReadUsage(fleet->agent->pid()));
  SPINEL_ASSIGN_OR_RETURN(ProcessUsage server, ReadUsage(fleet->server->pid()));
  agent.cpu_seconds -= agent_before.cpu_seconds;
  server.cpu_seconds -= server_before.cpu_seconds;
  SPINEL_ASSIGN_OR_RETURN(WatchStats stats, StopWorkers(fleet->workers));
  fleet->agent->Stop();
  fleet->server->Stop();
  Publish(flags, options, *fleet, stats, run_s, agent, server);
  if (stats.served_expired > 0) {
    return absl::InternalError(StrCat(stats.served_expired, " SVIDs were served expired"));
  }
  if (stats.rotations == 0) return absl::InternalError("no SVID rotated during the run");
  return absl::OkStatus();
}

}  // namespace
}  // namespace spinel::bench

int main(int argc, char** argv) {
  CLI::App app{"Figure 5: rotation at scale with one agent"};
  spinel::bench::CommonFlags flags;
  spinel::bench::Options options;
  std::string watch_socket;
  int watch_min = 1;
  app.add_option("--entries", options.entries, "workload entries (full size)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--ttl", options.ttl_s, "X.509 SVID TTL in seconds (quick and full)")
      ->check(CLI::Range(4, 3600));
  app.add_option("--minutes", options.minutes, "run length (full size)")
      ->check(CLI::Range(0.1, 1440.0));
  app.add_option("--workers", options.workers, "workload processes (full size)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--watch", watch_socket, "internal: run as a watching worker on this socket");
  app.add_option("--watch-min", watch_min, "internal: SVIDs the worker waits for");
  if (auto exit_code = spinel::bench::ParseFlags(app, flags, argc, argv)) return *exit_code;
  if (!watch_socket.empty()) return spinel::bench::WatchMain(watch_socket, watch_min);
  absl::Status status = spinel::bench::Main(flags, options);
  if (!status.ok()) {
    std::fprintf(stderr, "rotation_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
