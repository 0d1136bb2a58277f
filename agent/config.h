// spinel-agent configuration (`spinel-agent run --config FILE`), one YAML file. Every key, its
// default and meaning is in docs/configuration.md. Unknown keys and bad values stop the start
// with an error naming the file, line and key.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/log.h"
#include "common/spiffe_id.h"

namespace spinel::agent {

struct AgentConfig {
  common::TrustDomain trust_domain;  // the control plane's trust domain
  // The agent API of every server replica, host:port each, in the order the agent tries them
  // (config `servers:`; `server_address: X` is the same as `servers: [X]`). Never empty.
  std::vector<std::string> servers;
  std::string server_address;     // servers.front(), kept for callers that need one
  std::string trust_bundle_path;  // PEM bootstrap bundle of the control trust domain
  std::string data_dir;           // agent SVID, key and state
  std::string socket_path;        // Workload API Unix socket
  // Node attestation: a join token (inline or in a file; the --join-token flag wins), or
  // x509pop with a node certificate and key.
  std::string join_token;
  std::string join_token_file;
  std::string x509pop_cert_path;
  std::string x509pop_key_path;
  common::LogLevel log_level = common::LogLevel::kInfo;
  common::LogFormat log_format = common::LogFormat::kText;
  // Maximum CSRs per signing request.
  int sign_batch_size = 500;
  // Reconnect backoff: doubles from the minimum up to the maximum, with +-20% jitter.
  std::chrono::milliseconds reconnect_min{500};
  std::chrono::milliseconds reconnect_max{30000};
  // Decision events buffered while the server is unreachable.
  int audit_buffer_size = 10000;
};

absl::StatusOr<AgentConfig> ParseAgentConfig(std::string_view yaml, const std::string& file,
                                             const std::string& base_dir);
absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path);

}  // namespace spinel::agent
