// Figure 1, end to end: X509-SVID issuance through the real spinel-server process's agent API.
//
// A spinel-server runs pinned to one CPU (taskset, when the machine has two or more; this
// program then keeps off that CPU). Simulated agents (bench/support/load_agent.h) attest with
// join tokens and send SignX509Svids batches of CSRs for their entry over mTLS, several calls
// in flight, for a fixed time. CSRs are made before the timed run (fresh P-256 keys; the pool
// is reused round-robin), so the figure is what the server sustains: CSR verify, signing,
// the audit record of every issuance, TLS and gRPC.
//
// Figures: svid/s (limit: 1/(1/sign + 1/verify) from openssl speed, goal ratio >= 0.50), the
// server's CPU use during the run (cores) and SVIDs per server CPU-second.
#include <sched.h>
#include <unistd.h>

#include <atomic>
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

namespace spinel::bench {
namespace {

using common::StrCat;
using Clock = std::chrono::steady_clock;

struct Options {
  int agents = 4;
  int batch = 100;
  int in_flight = 4;
  double seconds = 10;
};

// Keeps this process off the server's CPU.
void AvoidCpu(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  for (int i = 0; i < cpus; ++i) {
    if (i != cpu) CPU_SET(i, &set);
  }
  ::sched_setaffinity(0, sizeof(set), &set);
}

struct Loaded {
  std::vector<std::unique_ptr<SimAgent>> agents;
  std::vector<std::vector<spinel::v1::SignX509SvidsRequest>> requests;  // per agent
};

absl::StatusOr<Loaded> Prepare(LoadServer& server, const Options& options) {
  Loaded loaded;
  SPINEL_ASSIGN_OR_RETURN(std::string control_pem, server.ControlBundlePem());
  auto admin = server.Admin();
  for (int a = 0; a < options.agents; ++a) {
    SPINEL_ASSIGN_OR_RETURN(auto token, server.JoinToken());
    SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<SimAgent> agent,
                            SimAgent::Attest(server.agent_api_address(), control_pem, token.first));
    const std::string spiffe_id = StrCat("spiffe://inference.ai.example.org/bench/e2e-", a);
    SPINEL_ASSIGN_OR_RETURN(std::vector<std::string> ids,
                            CreateEntries(*admin, {MakeEntry(spiffe_id, agent->id(), 1000)}));
    // Two distinct batches per agent, each CSR with its own key.
    SPINEL_ASSIGN_OR_RETURN(std::vector<std::string> csrs, MakeCsrs(spiffe_id, 2 * options.batch));
    std::vector<spinel::v1::SignX509SvidsRequest> requests(2);
    for (size_t i = 0; i < csrs.size(); ++i) {
      spinel::v1::CsrForEntry* item = requests[i % 2].add_csrs();
      item->set_entry_id(ids[0]);
      item->set_csr(csrs[i]);
    }
    loaded.agents.push_back(std::move(agent));
    loaded.requests.push_back(std::move(requests));
  }
  return loaded;
}

struct RunResult {
  int64_t signed_count = 0;
  double seconds = 0;
  absl::Status status;
};

// `options.in_flight` threads, each sending batches of one agent (round-robin), until `seconds`.
RunResult Run(Loaded& loaded, const Options& options, double seconds) {
  std::atomic<int64_t> total{0};
  spinel::common::Mutex error_mutex;
  absl::Status error;
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  std::vector<std::thread> threads;
  for (int t = 0; t < options.in_flight; ++t) {
    threads.emplace_back([&, t] {
      const size_t a = t % loaded.agents.size();
      for (int round = 0; Clock::now() < end; ++round) {
        absl::StatusOr<int> n = loaded.agents[a]->SignCsrs(loaded.requests[a][round % 2]);
        if (!n.ok()) {
          spinel::common::MutexLock lock(error_mutex);
          error = n.status();
          return;
        }
        total += *n;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  RunResult result;
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.signed_count = total.load();
  result.status = error;
  return result;
}

absl::Status Main(const CommonFlags& flags, Options options) {
  options.seconds = flags.Pick(1.0, 4.0, options.seconds);
  if (flags.smoke) options.batch = std::min(options.batch, 20);
  TempDir dir;
  LoadServerOptions server_options;
  server_options.pin_one_core = true;
  // The per-agent rate limit (default 10,000/s) would cap the figure, not the signer.
  server_options.signings_per_agent_per_second = 1000000;
  LoadServer server(dir, server_options);
  SPINEL_RETURN_IF_ERROR(server.Start());
  AvoidCpu(server.pinned_cpu());
  SPINEL_ASSIGN_OR_RETURN(Loaded loaded, Prepare(server, options));
  // Warm-up: connections, the signer's caches, SQLite pages.
  RunResult warm = Run(loaded, options, flags.smoke ? 0.2 : 1.0);
  SPINEL_RETURN_IF_ERROR(warm.status);
  SPINEL_ASSIGN_OR_RETURN(ProcessUsage before, ReadUsage(server.pid()));
  RunResult run = Run(loaded, options, options.seconds);
  SPINEL_ASSIGN_OR_RETURN(ProcessUsage after, ReadUsage(server.pid()));
  SPINEL_RETURN_IF_ERROR(run.status);
  if (run.signed_count == 0) return absl::InternalError("no SVID was signed");
  loaded.agents.clear();
  server.Stop();

  const double rate = run.signed_count / run.seconds;
  const double server_cpu = after.cpu_seconds - before.cpu_seconds;
  nlohmann::json params = flags.SizeParam();
  params.update({{"agents", options.agents},
                 {"batch", options.batch},
                 {"in_flight", options.in_flight},
                 {"seconds", run.seconds},
                 {"svids", run.signed_count},
                 {"server_cpu_pinned", server.pinned_cpu() >= 0}});
  Report report("issuance_e2e");
  report.Add(
      MakeFigure("x509_e2e_agent_api", rate, "svid/s", params, "ratio >= 0.50", flags.X509Limit()));
  report.Add(MakeFigure("x509_e2e_server_cores", server_cpu / run.seconds, "cores", params));
  if (server_cpu > 0) {
    report.Add(MakeFigure("x509_e2e_per_server_cpu_s", run.signed_count / server_cpu, "svid/cpu-s",
                          params, "", flags.X509Limit()));
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace spinel::bench

int main(int argc, char** argv) {
  CLI::App app{"Figure 1 end to end: X509-SVID issuance through the real server's agent API"};
  spinel::bench::CommonFlags flags;
  spinel::bench::Options options;
  app.add_option("--agents", options.agents, "simulated agents")->check(CLI::Range(1, 1000));
  app.add_option("--batch", options.batch, "CSRs per SignX509Svids call")
      ->check(CLI::Range(1, 5000));
  app.add_option("--in-flight", options.in_flight, "concurrent calls")->check(CLI::Range(1, 256));
  app.add_option("--seconds", options.seconds, "timed run length (full size)")
      ->check(CLI::Range(0.5, 3600.0));
  if (auto exit_code = spinel::bench::ParseFlags(app, flags, argc, argv)) return *exit_code;
  absl::Status status = spinel::bench::Main(flags, options);
  if (!status.ok()) {
    std::fprintf(stderr, "issuance_e2e_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
