#include "agent/config.h"

#include <filesystem>

#include "common/config_sections.h"
#include "common/file_util.h"
#include "common/strings.h"
#include "common/yaml_reader.h"

namespace spinel::agent {
namespace {

using common::YamlMap;

void ReadAttestation(YamlMap attestation, const std::string& base_dir, AgentConfig& config) {
  config.join_token = attestation.String("join_token").value_or("");
  config.join_token_file =
      common::ResolveConfigPath(base_dir, attestation.String("join_token_file").value_or(""));
  YamlMap x509pop = attestation.Map("x509pop");
  config.x509pop_cert_path =
      common::ResolveConfigPath(base_dir, x509pop.String("cert").value_or(""));
  config.x509pop_key_path = common::ResolveConfigPath(base_dir, x509pop.String("key").value_or(""));
  x509pop.RejectUnknownKeys();
  if (config.x509pop_cert_path.empty() != config.x509pop_key_path.empty()) {
    attestation.Error("x509pop", "needs both cert and key");
  }
  attestation.RejectUnknownKeys();
}

void ReadTuning(YamlMap& root, AgentConfig& config) {
  config.sign_batch_size = static_cast<int>(root.Int("sign_batch_size", 1, 1000).value_or(500));
  config.audit_buffer_size =
      static_cast<int>(root.Int("audit_buffer_size", 0, 10'000'000).value_or(10000));
  YamlMap reconnect = root.Map("reconnect");
  if (auto d = reconnect.Duration("min")) config.reconnect_min = *d;
  if (auto d = reconnect.Duration("max")) config.reconnect_max = *d;
  reconnect.RejectUnknownKeys();
  if (config.reconnect_min > config.reconnect_max) {
    root.Error("reconnect", "min must not be greater than max");
  }
}

// A host:port the agent can dial: a non-empty host and a port 1..65535.
bool IsHostPort(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) return false;
  const std::string port = address.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
  const int value = std::stoi(port);
  return value >= 1 && value <= 65535;
}

// `servers: [a:port, ...]` or `server_address: a:port` (exactly one of them).
void ReadServers(YamlMap& root, AgentConfig& config) {
  const bool has_list = root.Has("servers");
  if (has_list && root.Has("server_address")) {
    root.Error("servers", "give either server_address or servers, not both");
    return;
  }
  if (!has_list) {
    config.server_address = root.RequiredString("server_address");
    if (!config.server_address.empty()) config.servers = {config.server_address};
  } else {
    config.servers = root.StringList("servers");
    if (config.servers.empty()) root.Error("servers", "must list at least one host:port");
  }
  for (const std::string& address : config.servers) {
    if (IsHostPort(address)) continue;
    root.Error(has_list ? "servers" : "server_address",
               common::StrCat("expected host:port, got ", common::Quote(address)));
  }
  if (!config.servers.empty()) config.server_address = config.servers.front();
}

}  // namespace

absl::StatusOr<AgentConfig> ParseAgentConfig(std::string_view yaml, const std::string& file,
                                             const std::string& base_dir) {
  common::YamlErrors errors(file);
  YamlMap root(common::LoadYamlString(yaml, &errors), "", &errors);
  AgentConfig config;
  std::string td = root.RequiredString("trust_domain");
  if (!td.empty()) {
    auto parsed = common::TrustDomain::Parse(td);
    if (parsed.ok() && td.find(":/") == std::string::npos)
      config.trust_domain = *parsed;
    else
      root.Error("trust_domain", "expected a bare trust domain name, e.g. control.example.org");
  }
  ReadServers(root, config);
  config.trust_bundle_path =
      common::ResolveConfigPath(base_dir, root.RequiredString("trust_bundle"));
  config.data_dir = common::ResolveConfigPath(base_dir, root.RequiredString("data_dir"));
  config.socket_path = common::ResolveConfigPath(base_dir, root.RequiredString("socket_path"));
  ReadAttestation(root.Map("attestation"), base_dir, config);
  common::ReadLogSection(root.Map("log"), &config.log_level, &config.log_format);
  ReadTuning(root, config);
  root.RejectUnknownKeys();
  if (!errors.ok()) return errors.status();
  return config;
}

absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path) {
  absl::StatusOr<std::string> text = common::ReadFile(path);
  if (!text.ok()) {
    return absl::InvalidArgumentError(
        common::StrCat(path, ": cannot read config file: ", text.status().message()));
  }
  std::string base_dir = std::filesystem::absolute(path).parent_path().string();
  return ParseAgentConfig(*text, path, base_dir);
}

}  // namespace spinel::agent
