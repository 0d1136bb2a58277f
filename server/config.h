// spinel-server configuration, read from one YAML file (`spinel-server run --config FILE`).
// Every key, its default and its meaning is in docs/configuration.md. Unknown keys and bad
// values stop the start with an error naming the file, line and key.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/log.h"
#include "common/spiffe_id.h"

namespace spinel::server {

// An upstream authority for one zone: a root key and certificate on disk that sign the zone's
// CAs instead of self-signing (how several replicas share one root per zone).
struct UpstreamAuthority {
  std::string cert_path;
  std::string key_path;
};

// A zone's SPIFFE bundle endpoint (config `federation.bundle_endpoints`, issue 9): its own
// HTTPS listener serving that zone's bundle (server/federation/bundle_endpoint.h).
struct BundleEndpointConfig {
  std::string zone;       // a zone name (never the control trust domain)
  std::string address;    // "host:port"; port 0 picks one
  std::string profile;    // "https_spiffe" (the zone's own SVID) or "https_web"
  std::string cert_path;  // https_web only: PEM chain, leaf first
  std::string key_path;   // https_web only: PEM private key
};

struct FederationConfig {
  std::vector<BundleEndpointConfig> bundle_endpoints;
  // How long to wait before fetching again a federated bundle that has no spiffe_refresh_hint.
  std::chrono::seconds refresh_interval_default{300};
};

struct ServerConfig {
  common::TrustDomain trust_domain;  // control-plane trust domain
  std::string data_dir;              // keys, SQLite file, admin socket
  // This replica's stable id among several sharing one datastore (its published bundles are
  // kept under it): 1..64 of [A-Za-z0-9._-]. "" = generated once, kept in <data_dir>/server-id.
  std::string server_id;
  std::string agent_api_address;  // "host:port" (TLS gRPC); port 0 picks a free port
  std::string admin_socket;       // Unix socket path of the admin API
  std::string https_address;      // health, metrics, bundle endpoint; "" disables
  std::string datastore;          // "sqlite:<path>" or a postgres:// URI
  std::string zones_dir;          // directory of zone YAML files
  common::LogLevel log_level = common::LogLevel::kInfo;
  common::LogFormat log_format = common::LogFormat::kText;

  std::chrono::seconds ca_ttl{24 * 3600};  // control-plane CA lifetime
  std::chrono::seconds agent_svid_ttl{3600};
  std::chrono::seconds server_svid_ttl{3600};
  std::chrono::seconds default_join_token_ttl{600};
  // How long a step-up approval request stays usable (pending or approved); 1s..24h.
  std::chrono::seconds approval_ttl{600};
  std::string x509pop_ca_bundle;  // PEM of CAs trusted for node certs; "" = off

  std::map<std::string, UpstreamAuthority> upstream_authorities;  // by zone name
  FederationConfig federation;

  int max_concurrent_signings = 0;  // 0 = number of CPUs
  int signings_per_agent_per_second = 10000;
  // When run with a relative path, everything relative is resolved against the config file.
};

// Parses YAML text; `file` names the source in errors. Relative paths are resolved against
// `base_dir`.
absl::StatusOr<ServerConfig> ParseServerConfig(std::string_view yaml, const std::string& file,
                                               const std::string& base_dir);
// Reads and parses a config file.
absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path);

}  // namespace spinel::server
