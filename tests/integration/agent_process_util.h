// Helpers for integration tests that run the real spinel-agent next to a real spinel-server
// (tests/integration/process_util.h):
//   - PinAgentApiPort(): rewrites a started ServerProcess's config so that a restart listens on
//     the same agent API port (the agent's config names it);
//   - AgentProcess: a spinel-agent with its config, bootstrap bundle, data directory and
//     Workload API socket in a temp directory (made 0755 so workloads of other uids can reach
//     the socket), started with `run --config F [--join-token T]` and waited for until it
//     logs that it started; Api() runs `spinel-agent api ...` against it as a chosen uid (via
//     `setpriv --reuid N --regid N --clear-groups`), AsUid() builds such an argv for a
//     long-running ChildProcess (e.g. `api watch`).
//   - StartServerForAgent(): Start() + PinAgentApiPort() + NewJoinToken(), the start of every
//     test with an agent that outlives a server restart;
//   - Register(): `entry create` for a SPIFFE ID under an agent with one unix:uid selector.
// Failures abort the current doctest case (REQUIRE). Not thread-safe; one test thread.
#pragma once

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/integration/process_util.h"

namespace spinel::testing {

inline std::string TrimLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// The stdout of a command that must have succeeded with JSON output (`--output json`).
inline nlohmann::json ParseJsonOutput(const CommandResult& result) {
  REQUIRE_MESSAGE(result.exit_code == 0, result.Describe());
  nlohmann::json parsed = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  REQUIRE_MESSAGE(!parsed.is_discarded(), result.Describe());
  return parsed;
}

// A JSON array of strings, sorted (protobuf maps come out in no particular order).
inline nlohmann::json Sorted(nlohmann::json array) {
  std::sort(array.begin(), array.end());
  return array;
}

// The agent API address a started server listens on.
inline std::string AgentApiAddress(const ServerProcess& server) {
  return TrimLine(ReadWholeFile(server.data_dir() + "/agent-api.addr"));
}

// Makes the next Start() of `server` (configured in `dir`) reuse its current agent API port.
inline void PinAgentApiPort(const TempDir& dir, const ServerProcess& server) {
  const std::string config_path = dir.File("server.yaml");
  std::string config = ReadWholeFile(config_path);
  const std::string port_zero = "agent_api: 127.0.0.1:0";
  const size_t at = config.find(port_zero);
  REQUIRE_MESSAGE(at != std::string::npos, config);
  config.replace(at, port_zero.size(), "agent_api: " + AgentApiAddress(server));
  dir.Write("server.yaml", config);
}

// A join token for a new agent: {token, agent SPIFFE ID}.
inline std::pair<std::string, std::string> NewJoinToken(const ServerProcess& server) {
  nlohmann::json token = ParseJsonOutput(server.Cli("token generate --ttl 10m --output json"));
  return {token["token"].get<std::string>(), token["agent_spiffe_id"].get<std::string>()};
}

// Starts `server` (configured in `dir`), pins its agent API port so that its restarts keep it
// (PinAgentApiPort) and makes a join token for a new agent: {token, agent SPIFFE ID}.
inline std::pair<std::string, std::string> StartServerForAgent(const TempDir& dir,
                                                               ServerProcess& server) {
  server.Start();
  PinAgentApiPort(dir, server);
  return NewJoinToken(server);
}

// Registers `spiffe_id` under `parent` for workloads running as `uid`; returns the entry id.
inline std::string Register(const ServerProcess& server, const std::string& spiffe_id,
                            const std::string& parent, int uid, const std::string& extra = "") {
  nlohmann::json created = ParseJsonOutput(server.Cli(
      "entry create --spiffe-id " + ShellQuote(spiffe_id) + " --parent-id " + ShellQuote(parent) +
      " --selector unix:uid:" + std::to_string(uid) + " " + extra + " --output json"));
  REQUIRE(created["results"][0]["status"] == "created");
  return created["results"][0]["entry"]["id"].get<std::string>();
}

class AgentProcess {
 public:
  AgentProcess(const TempDir& dir, const ServerProcess& server)
      : binary_(BuildDir() + "/agent/spinel-agent"),
        config_path_(dir.File("agent.yaml")),
        socket_path_(dir.File("sock/workload.sock")),
        data_dir_(dir.File("agent-data")),
        log_path_(dir.File("agent.log")) {
    // Workloads of other uids must reach the socket: the temp dir is 0700 from mkdtemp.
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    CommandResult bundle = server.Cli("bundle show --trust-domain " + std::string(kTestControlTd));
    REQUIRE_MESSAGE(bundle.exit_code == 0, bundle.Describe());
    dir.Write("bootstrap.pem", bundle.out);
    std::ofstream config(config_path_);
    config << "trust_domain: " << kTestControlTd << "\n"
           << "server_address: " << AgentApiAddress(server) << "\n"
           << "trust_bundle: bootstrap.pem\n"
           << "data_dir: " << data_dir_ << "\n"
           << "socket_path: " << socket_path_ << "\n"
           << "reconnect: {min: 200ms, max: 2s}\n";
    REQUIRE(config.good());
  }

  // Starts the agent (with `join_token` when not empty) and waits until it says it serves.
  void Start(const std::string& join_token = "") {
    std::vector<std::string> argv = {binary_, "run", "--config", config_path_};
    if (!join_token.empty()) {
      argv.push_back("--join-token");
      argv.push_back(join_token);
    }
    const size_t log_before = Log().size();  // the log is appended to across restarts
    RequireOk(process_.Start(argv, log_path_));
    bool healthy = WaitFor([&] {
      REQUIRE_MESSAGE(process_.Running(), "spinel-agent exited:\n" << Log());
      return Log().find("spinel-agent started", log_before) != std::string::npos;
    });
    REQUIRE_MESSAGE(healthy, "spinel-agent did not become healthy:\n" << Log());
  }
  int Kill(int signal = SIGKILL) { return process_.Kill(signal); }
  bool Running() { return process_.Running(); }

  // `spinel-agent <args>` with --socket, run as `uid` (root when negative).
  CommandResult Api(const std::string& args, int uid = -1) const {
    std::string command;
    for (const std::string& part : AsUid(uid, {binary_})) command += ShellQuote(part) + " ";
    return RunCommand(command + args + " --socket " + ShellQuote(socket_path_));
  }
  // `argv` prefixed to run as `uid` (unchanged when negative).
  static std::vector<std::string> AsUid(int uid, std::vector<std::string> argv) {
    if (uid < 0) return argv;
    const std::string id = std::to_string(uid);
    std::vector<std::string> out = {"/usr/bin/setpriv", "--reuid", id,
                                    "--regid",          id,        "--clear-groups"};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }

  const std::string& binary() const { return binary_; }
  const std::string& socket_path() const { return socket_path_; }
  // The running agent's pid (-1 when not running), e.g. for prlimit(2) on it.
  pid_t pid() const { return process_.pid(); }
  const std::string& data_dir() const { return data_dir_; }
  std::string Log() const { return ReadWholeFile(log_path_); }

 private:
  std::string binary_;
  std::string config_path_;
  std::string socket_path_;
  std::string data_dir_;
  std::string log_path_;
  ChildProcess process_;
};

}  // namespace spinel::testing
