// The real spinel-server and spinel-agent binaries of BuildDir(), run as child processes for
// the benchmarks (the shapes of tests/integration's ServerProcess/AgentProcess, without
// doctest):
//
//   bench::TempDir dir;
//   bench::ServerProcess server(dir);                  // config in dir, port 0, shipped zones
//   SPINEL_RETURN_IF_ERROR(server.Start());            // waits for `healthcheck`
//   SPINEL_ASSIGN_OR_RETURN(bench::JoinToken token, server.NewJoinToken());
//   bench::AgentProcess agent(dir, server);
//   SPINEL_RETURN_IF_ERROR(agent.Start(token.token));  // waits for "spinel-agent started"
//   SPINEL_ASSIGN_OR_RETURN(std::string entry_id,
//       server.Register("spiffe://inference.ai.example.org/bench", token.agent_id, getuid()));
//
// Children inherit this process' limits: call RaiseFileLimit() (process.h) before Start()
// when the agent must hold many connections. Both are SIGKILLed on destruction.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/support/process.h"

namespace spinel::bench {

// The control trust domain of ServerProcess.
inline constexpr char kBenchControlTd[] = "control.spinel.bench";

struct JoinToken {
  std::string token;
  std::string agent_id;  // the SPIFFE ID the agent gets with it
};

struct ServerOptions {
  std::string zones_dir;   // empty: SourceDir()/trust-zones/zones
  std::string extra_yaml;  // appended to the config as is (e.g. "log_level: warn\n")
};

class ServerProcess {
 public:
  explicit ServerProcess(const TempDir& dir, ServerOptions options = {});

  // Writes the config, starts `spinel-server run` and waits until `healthcheck` passes.
  absl::Status Start();
  int Kill(int signal) { return process_.Kill(signal); }

  // `spinel-server <args>` against this server's admin socket.
  CommandResult Cli(const std::string& args) const;
  // `token generate`: a single-use join token for a new agent.
  absl::StatusOr<JoinToken> NewJoinToken() const;
  // `entry create` of `spiffe_id` under `parent` for workloads of `uid` (plus `extra` flags);
  // the new entry's id.
  absl::StatusOr<std::string> Register(const std::string& spiffe_id, const std::string& parent,
                                       int uid, const std::string& extra = "") const;
  // The address the agent API listens on (host:port).
  std::string AgentApiAddress() const;

  const std::string& binary() const { return binary_; }
  const std::string& data_dir() const { return data_dir_; }
  pid_t pid() const { return process_.pid(); }
  std::string Log() const { return ReadWholeFile(log_path_); }

 private:
  const TempDir& dir_;
  ServerOptions options_;
  std::string binary_;
  std::string data_dir_;
  std::string log_path_;
  ChildProcess process_;
};

class AgentProcess {
 public:
  // Config, data dir and socket in `dir` (made 0755 so other uids reach the socket).
  AgentProcess(const TempDir& dir, const ServerProcess& server, std::string extra_yaml = "");

  // Writes the config, starts `spinel-agent run` (with `join_token` unless empty) and waits
  // until it logs that it started.
  absl::Status Start(const std::string& join_token);
  int Kill(int signal) { return process_.Kill(signal); }

  // `spinel-agent <args> --socket <socket>` as this uid.
  CommandResult Api(const std::string& args) const;

  const std::string& binary() const { return binary_; }
  const std::string& socket_path() const { return socket_path_; }
  // "unix://<socket_path>", for grpc::CreateChannel.
  std::string target() const { return "unix://" + socket_path_; }
  pid_t pid() const { return process_.pid(); }
  std::string Log() const { return ReadWholeFile(log_path_); }

 private:
  const TempDir& dir_;
  const ServerProcess& server_;
  std::string extra_yaml_;
  std::string binary_;
  std::string socket_path_;
  std::string data_dir_;
  std::string log_path_;
  ChildProcess process_;
};

}  // namespace spinel::bench
