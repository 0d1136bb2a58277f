// Real processes for the scale benchmarks (propagation, rotation, server scale, end-to-end
// issuance), on top of bench/support/process.h (TempDir, ChildProcess, ReadUsage, WaitFor):
// what those need beyond spinel_processes.h:
//   - RunArgv: run the operator CLI without a shell (timed from the exec);
//   - LoadServer: spinel-server on 127.0.0.1 (agent API port 0 at first start, kept across
//     restarts), optionally pinned to one CPU with taskset; Admin() is an AdminService stub.
//   - LoadAgentProcess: spinel-agent attested with a join token, Workload API socket inside
//     the directory.
//   - MakeEntry/CreateEntries: entries through the admin API in batches.
// Binaries come from BuildDir(), the shipped zones from SourceDir() (process.h). Errors are
// absl::Status naming what failed (with the log tail of a process that died). Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "admin.grpc.pb.h"
#include "bench/support/process.h"

namespace spinel::bench {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs argv directly (no shell: timings do not include /bin/sh), stdin /dev/null, capturing
// stdout and stderr.
absl::StatusOr<CliResult> RunArgv(const std::vector<std::string>& argv);

// The last `bytes` of `text`.
std::string Tail(const std::string& text, size_t bytes = 2000);

// The control trust domain of LoadServer.
inline constexpr char kLoadControlTd[] = "control.spinel.test";

struct LoadServerOptions {
  bool pin_one_core = false;                  // taskset -c <last cpu> when there are >= 2
  int signings_per_agent_per_second = 10000;  // limits.signings_per_agent_per_second
  std::string extra_config;                   // appended to server.yaml
};

class LoadServer {
 public:
  LoadServer(const TempDir& dir, LoadServerOptions options);
  ~LoadServer();

  // Starts the server and waits until the admin API answers Health and the agent API address
  // is known. Later starts reuse the same agent API port.
  absl::Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // SIGTERM (clean) and wait.
  void Stop();
  pid_t pid() const { return process_.pid(); }
  bool Running() { return process_.Running(); }

  // `spinel-server <args...>` against this server's admin socket.
  absl::StatusOr<CliResult> Cli(const std::vector<std::string>& args) const;
  std::unique_ptr<spinel::v1::AdminService::Stub> Admin() const;
  // A join token (admin API) for a new agent: {token, agent SPIFFE ID}.
  absl::StatusOr<std::pair<std::string, std::string>> JoinToken() const;
  absl::StatusOr<std::string> ControlBundlePem() const;

  const std::string& agent_api_address() const { return agent_api_address_; }
  const std::string& binary() const { return binary_; }
  std::string socket_path() const { return data_dir_ + "/admin.sock"; }
  std::string LogTail() const;
  // Which CPU the server is pinned to (-1 when not pinned).
  int pinned_cpu() const { return pinned_cpu_; }

 private:
  absl::Status WriteConfig(const std::string& agent_api) const;

  std::string binary_;
  std::string source_dir_;
  std::string config_path_;
  std::string data_dir_;
  std::string log_path_;
  LoadServerOptions options_;
  std::string agent_api_address_;
  int pinned_cpu_ = -1;
  ChildProcess process_;
};

class LoadAgentProcess {
 public:
  LoadAgentProcess(const TempDir& dir, const LoadServer& server);
  // Writes the config (bootstrap bundle from the server), starts with `join_token` and waits
  // for "spinel-agent started" in its log.
  absl::Status Start(const std::string& join_token);
  void Stop();
  pid_t pid() const { return process_.pid(); }
  bool Running() { return process_.Running(); }
  const std::string& socket_path() const { return socket_path_; }
  std::string LogTail() const;

 private:
  const LoadServer& server_;
  std::string binary_;
  std::string dir_;
  std::string socket_path_;
  std::string log_path_;
  ChildProcess process_;
};

// An entry for workloads running as `uid` (selector unix:uid:<uid>); ttl 0 = zone default.
spinel::v1::Entry MakeEntry(const std::string& spiffe_id, const std::string& parent_id, int uid,
                            int64_t x509_ttl_seconds = 0);
// Creates `entries` through the admin API, `batch` per CreateEntries call; their ids in order.
// Any refused entry is an error naming it.
absl::StatusOr<std::vector<std::string>> CreateEntries(
    spinel::v1::AdminService::Stub& admin, const std::vector<spinel::v1::Entry>& entries,
    size_t batch = 1000);

}  // namespace spinel::bench
