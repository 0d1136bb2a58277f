// Figure 3: the Workload API of a real spinel-agent process (with a real spinel-server), over
// its Unix socket, for an entry registered for this process' uid (bench/support/agent_pair.h).
//
// first_x509_{p50,p99}_us_<N>_clients: N clients start at once, each on a fresh channel (its
// own connection, so the time includes connecting and the agent's peer attestation) and
// measure from starting FetchX509SVID to receiving its first message; the SVID is already
// cached by the agent. Rounds of N are repeated for more samples. Goal: p99 < 2 ms at 100.
// The clients are asynchronous (gRPC callback API) in this one process, so 1000 clients do not
// need 1000 threads; the client shares the machine's cores with the agent.
// cached_jwt_{p50,p99}_us: sequential FetchJWTSVID for one audience on one connection after a
// first call (which had the agent get it from the server), i.e. served from the agent's cache.
// validate_jwt_per_s: ValidateJWTSVID calls per second from 4 threads on one connection.
// Every answer is checked (the right SPIFFE ID); an error stops the benchmark (exit code 1).
#include <cstdio>

#include "bench/support/agent_pair.h"
#include "bench/support/limits.h"
#include "bench/support/process.h"
#include "bench/support/report.h"
#include "bench/support/timing.h"
#include "bench/support/workload_client.h"
#include "common/mutex.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::bench {
namespace {

using common::StrCat;

constexpr char kSpiffeId[] = "spiffe://inference.ai.example.org/bench/workload";
constexpr char kAudience[] = "spiffe://retrieval.ai.example.org/bench";

// Counts finished calls; Wait() returns when `expected` have finished.
class Countdown {
 public:
  explicit Countdown(size_t expected) : left_(expected) {}
  void Arrive() {
    spinel::common::MutexLock lock(mutex_);
    if (--left_ == 0) done_.NotifyAll();
  }
  bool Wait(std::chrono::seconds timeout) {
    spinel::common::MutexLock lock(mutex_);
    return done_.WaitFor(mutex_, timeout,
                         [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return left_ == 0; });
  }

 private:
  spinel::common::Mutex mutex_;
  spinel::common::CondVar done_;
  size_t left_ ABSL_GUARDED_BY(mutex_);
};

// One client: FetchX509SVID on its own channel, until the first message.
class FirstMessageClient final : public grpc::ClientReadReactor<X509SVIDResponse> {
 public:
  FirstMessageClient(const std::string& target, Countdown& done)
      : stub_(SpiffeWorkloadAPI::NewStub(FreshChannel(target))), done_(done) {
    context_.AddMetadata("workload.spiffe.io", "true");
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  }
  void Begin() {
    start_ = WallSeconds();
    stub_->async()->FetchX509SVID(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (ok) first_ = WallSeconds();
    received_ = ok && response_.svids_size() > 0 && response_.svids(0).spiffe_id() == kSpiffeId;
    context_.TryCancel();
  }
  void OnDone(const grpc::Status& status) override {
    status_ = status;
    done_.Arrive();
  }
  // The latency in microseconds, or why there is none.
  absl::StatusOr<double> Result() const {
    if (received_) return Micros(start_, first_);
    if (!status_.ok()) return FromGrpc(status_);
    return absl::InternalError(StrCat("first message without the SVID of ", kSpiffeId));
  }

 private:
  std::unique_ptr<SpiffeWorkloadAPI::Stub> stub_;
  Countdown& done_;
  grpc::ClientContext context_;
  X509SVIDRequest request_;
  X509SVIDResponse response_;
  double start_ = 0;
  double first_ = 0;
  bool received_ = false;
  grpc::Status status_;
};

// `rounds` times: `clients` fresh clients started back to back; their latencies.
absl::Status FirstMessageRounds(const std::string& target, size_t clients, int rounds,
                                Samples& latencies) {
  for (int round = 0; round < rounds; ++round) {
    Countdown done(clients);
    std::vector<std::unique_ptr<FirstMessageClient>> batch;
    for (size_t i = 0; i < clients; ++i) {
      batch.push_back(std::make_unique<FirstMessageClient>(target, done));
    }
    for (auto& client : batch) client->Begin();
    if (!done.Wait(std::chrono::seconds(120))) {
      return absl::DeadlineExceededError(StrCat(clients, " clients did not finish in 120 s"));
    }
    for (const auto& client : batch) {
      SPINEL_ASSIGN_OR_RETURN(double micros, client->Result());
      latencies.Add(micros);
    }
  }
  return absl::OkStatus();
}

absl::Status ReportFirstMessage(Report& report, const CommonFlags& flags,
                                const std::string& target) {
  struct Level {
    size_t clients;
    int rounds;
  };
  const std::vector<Level> levels = flags.Pick<std::vector<Level>>(
      {{1, 5}, {4, 1}, {10, 1}}, {{1, 50}, {100, 2}, {1000, 1}}, {{1, 300}, {100, 10}, {1000, 3}});
  const size_t goal_clients = flags.smoke ? 10 : 100;
  for (const Level& level : levels) {
    Samples latencies;
    SPINEL_RETURN_IF_ERROR(FirstMessageRounds(target, 1, 1, latencies));  // warm-up, dropped
    latencies = Samples();
    SPINEL_RETURN_IF_ERROR(FirstMessageRounds(target, level.clients, level.rounds, latencies));
    nlohmann::json params = flags.SizeParam();
    params["clients"] = level.clients;
    params["samples"] = latencies.size();
    const std::string suffix = StrCat("_us_", level.clients, "_clients");
    report.Add(
        {"first_x509_p50" + suffix, latencies.Percentile(50), "us", std::nullopt, "", params});
    report.Add({"first_x509_p99" + suffix, latencies.Percentile(99), "us", std::nullopt,
                level.clients == goal_clients ? "< 2000 us" : "", params});
  }
  return absl::OkStatus();
}

absl::Status ReportJwt(Report& report, const CommonFlags& flags, const std::string& target) {
  auto stub = SpiffeWorkloadAPI::NewStub(FreshChannel(target));
  SPINEL_ASSIGN_OR_RETURN(std::string token, FetchJwt(*stub, kAudience));  // cached from now on
  Samples fetches;
  const int calls = flags.Pick(20, 500, 3000);
  for (int i = 0; i < calls; ++i) {
    const double start = WallSeconds();
    SPINEL_RETURN_IF_ERROR(FetchJwt(*stub, kAudience).status());
    fetches.Add(Micros(start, WallSeconds()));
  }
  nlohmann::json params = flags.SizeParam();
  params["calls"] = calls;
  report.Add({"cached_jwt_p50_us", fetches.Percentile(50), "us", std::nullopt, "", params});
  report.Add({"cached_jwt_p99_us", fetches.Percentile(99), "us", std::nullopt, "", params});

  constexpr int kThreads = 4;
  SPINEL_ASSIGN_OR_RETURN(
      ConcurrentCalls validated,
      RunConcurrently(kThreads, flags.Pick(0.3, 2.0, 5.0), [&](size_t) -> absl::Status {
        absl::StatusOr<std::string> id = ValidateJwt(*stub, token, kAudience);
        if (!id.ok()) return id.status();
        if (*id != kSpiffeId) return absl::InternalError("ValidateJWTSVID answered " + *id);
        return absl::OkStatus();
      }));
  params["threads"] = kThreads;
  params["validations"] = validated.calls;
  report.Add(
      {"validate_jwt_per_s", validated.PerSecond(), "validations/s", std::nullopt, "", params});
  return absl::OkStatus();
}

absl::Status RunBench(const CommonFlags& flags) {
  // The agent inherits the limit: 1000 clients are 1000 descriptors on each side.
  SPINEL_ASSIGN_OR_RETURN(long files, RaiseFileLimit(16384));
  if (files < 2500 && !flags.smoke) {
    return absl::ResourceExhaustedError(StrCat("RLIMIT_NOFILE is ", files, ", need 2500"));
  }
  SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<AgentPair> pair, AgentPair::Start({kSpiffeId}));
  Report report("workload_api");
  SPINEL_RETURN_IF_ERROR(ReportFirstMessage(report, flags, pair->agent().target()));
  SPINEL_RETURN_IF_ERROR(ReportJwt(report, flags, pair->agent().target()));
  return absl::OkStatus();
}

}  // namespace
}  // namespace spinel::bench

int main(int argc, char** argv) {
  CLI::App app{"Figure 3: Workload API latency and throughput of a real spinel-agent"};
  spinel::bench::CommonFlags flags;
  if (std::optional<int> exit_code = spinel::bench::ParseFlags(app, flags, argc, argv)) {
    return *exit_code;
  }
  absl::Status status = spinel::bench::RunBench(flags);
  if (!status.ok()) {
    std::fprintf(stderr, "workload_api_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
