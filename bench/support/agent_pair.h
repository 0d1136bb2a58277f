// AgentPair: a real spinel-server and one spinel-agent (bench/support/spinel_processes.h) in a
// temp directory, the agent attested with a join token, and entries registered under it for
// this process' uid; Start() returns once the agent serves the first of them over its socket.
// Both processes are SIGKILLed when the pair is destroyed.
//
//   SPINEL_ASSIGN_OR_RETURN(auto pair, AgentPair::Start({"spiffe://inference.ai.example.org/b"}));
//   auto stub = SpiffeWorkloadAPI::NewStub(FreshChannel(pair->agent().target()));
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/support/process.h"
#include "bench/support/spinel_processes.h"

namespace spinel::bench {

class AgentPair {
 public:
  // `spiffe_ids` (at least one) are registered for getuid(), each with `entry_flags` (extra
  // `entry create` flags, e.g. "--x509-svid-ttl 1h"); the server runs with `server_options`.
  static absl::StatusOr<std::unique_ptr<AgentPair>> Start(
      const std::vector<std::string>& spiffe_ids, const std::string& entry_flags = "",
      ServerOptions server_options = {});

  ServerProcess& server() { return server_; }
  AgentProcess& agent() { return agent_; }
  const std::string& agent_id() const { return agent_id_; }
  const std::vector<std::string>& entry_ids() const { return entry_ids_; }

 private:
  explicit AgentPair(ServerOptions options)
      : server_(dir_, std::move(options)), agent_(dir_, server_) {}

  TempDir dir_;  // first: removed after both processes are gone
  ServerProcess server_;
  AgentProcess agent_;
  std::string agent_id_;
  std::vector<std::string> entry_ids_;
};

}  // namespace spinel::bench
