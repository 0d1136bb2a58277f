#include "server/config.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/config_sections.h"
#include "common/strings.h"
#include "common/yaml_reader.h"

namespace spinel::server {
namespace {

using common::YamlMap;

std::chrono::seconds Seconds(std::optional<std::chrono::milliseconds> d,
                             std::chrono::seconds fallback) {
  return d ? std::chrono::duration_cast<std::chrono::seconds>(*d) : fallback;
}

void ReadListen(YamlMap listen, ServerConfig& config) {
  config.agent_api_address = listen.String("agent_api").value_or("127.0.0.1:8081");
  config.admin_socket = listen.String("admin_socket").value_or("");
  config.https_address = listen.String("https").value_or("127.0.0.1:8443");
  listen.RejectUnknownKeys();
}

void ReadUpstreams(YamlMap& root, const std::string& base_dir, ServerConfig& config) {
  for (YamlMap upstream : root.MapList("upstream_authorities")) {
    std::string zone = upstream.RequiredString("zone");
    UpstreamAuthority authority{
        common::ResolveConfigPath(base_dir, upstream.RequiredString("cert")),
        common::ResolveConfigPath(base_dir, upstream.RequiredString("key"))};
    upstream.RejectUnknownKeys();
    if (!config.upstream_authorities.emplace(zone, authority).second) {
      upstream.Error("zone", common::StrCat("zone ", common::Quote(zone),
                                            " has more than one upstream authority"));
    }
  }
}

void ReadBundleEndpoint(YamlMap endpoint, const std::string& base_dir, ServerConfig& config) {
  BundleEndpointConfig out;
  out.zone = endpoint.RequiredString("zone");
  out.address = endpoint.RequiredString("address");
  out.profile = endpoint.String("profile").value_or("https_spiffe");
  out.cert_path = common::ResolveConfigPath(base_dir, endpoint.String("cert_file").value_or(""));
  out.key_path = common::ResolveConfigPath(base_dir, endpoint.String("key_file").value_or(""));
  endpoint.RejectUnknownKeys();
  if (!out.zone.empty() && out.zone.find('.') != std::string::npos) {
    endpoint.Error("zone",
                   "must be a zone name (a trust domain name, such as the control "
                   "plane's, is not a zone)");
  }
  if (out.address.find(':') == std::string::npos) {
    endpoint.Error("address", "expected host:port (port 0 picks one)");
  }
  if (out.profile == "https_web") {
    if (out.cert_path.empty()) endpoint.Error("cert_file", "is required with profile https_web");
    if (out.key_path.empty()) endpoint.Error("key_file", "is required with profile https_web");
  } else if (out.profile == "https_spiffe") {
    if (!out.cert_path.empty() || !out.key_path.empty()) {
      endpoint.Error("cert_file",
                     "only with profile https_web (https_spiffe serves the zone SVID)");
    }
  } else {
    endpoint.Error("profile", "expected https_spiffe or https_web");
  }
  for (const BundleEndpointConfig& other : config.federation.bundle_endpoints) {
    if (other.zone == out.zone) {
      endpoint.Error("zone", common::StrCat("zone ", common::Quote(out.zone),
                                            " has more than one bundle endpoint"));
    }
  }
  config.federation.bundle_endpoints.push_back(std::move(out));
}

void ReadFederation(YamlMap federation, const std::string& base_dir, ServerConfig& config) {
  for (YamlMap endpoint : federation.MapList("bundle_endpoints")) {
    ReadBundleEndpoint(std::move(endpoint), base_dir, config);
  }
  config.federation.refresh_interval_default = Seconds(
      federation.Duration("refresh_interval_default"), config.federation.refresh_interval_default);
  if (config.federation.refresh_interval_default < std::chrono::seconds(1) ||
      config.federation.refresh_interval_default > std::chrono::hours(1)) {
    federation.Error("refresh_interval_default", "must be between 1s and 1h");
  }
  federation.RejectUnknownKeys();
}

void ReadLimits(YamlMap limits, ServerConfig& config) {
  config.max_concurrent_signings =
      static_cast<int>(limits.Int("max_concurrent_signings", 0, 4096).value_or(0));
  config.signings_per_agent_per_second =
      static_cast<int>(limits.Int("signings_per_agent_per_second", 1, 10'000'000).value_or(10000));
  limits.RejectUnknownKeys();
}

void ReadTrustDomain(YamlMap& root, ServerConfig& config) {
  std::string td = root.RequiredString("trust_domain");
  if (td.empty()) return;
  auto parsed = common::TrustDomain::Parse(td);
  if (parsed.ok() && td.find(":/") == std::string::npos)
    config.trust_domain = *parsed;
  else if (!parsed.ok())
    root.Error("trust_domain", std::string(parsed.status().message()));
  else
    root.Error("trust_domain", "give the bare trust domain name, not a SPIFFE ID");
}

void ReadDurations(YamlMap& root, ServerConfig& config) {
  config.ca_ttl = Seconds(root.Duration("ca_ttl"), config.ca_ttl);
  config.agent_svid_ttl = Seconds(root.Duration("agent_svid_ttl"), config.agent_svid_ttl);
  config.server_svid_ttl = Seconds(root.Duration("server_svid_ttl"), config.server_svid_ttl);
  config.default_join_token_ttl =
      Seconds(root.Duration("join_token_ttl"), config.default_join_token_ttl);
  config.approval_ttl = Seconds(root.Duration("approval_ttl"), config.approval_ttl);
  if (config.approval_ttl < std::chrono::seconds(1) ||
      config.approval_ttl > std::chrono::hours(24)) {
    root.Error("approval_ttl", "must be between 1s and 24h");
  }
  if (config.agent_svid_ttl * 2 > config.ca_ttl) {
    root.Error("agent_svid_ttl", "must be at most half of ca_ttl");
  }
  if (config.server_svid_ttl * 2 > config.ca_ttl) {
    root.Error("server_svid_ttl", "must be at most half of ca_ttl");
  }
}

void ReadDatastore(YamlMap& root, const std::string& base_dir, ServerConfig& config) {
  std::string datastore =
      root.String("datastore").value_or("sqlite:" + config.data_dir + "/datastore.sqlite3");
  if (datastore.rfind("sqlite:", 0) == 0) {
    config.datastore = "sqlite:" + common::ResolveConfigPath(base_dir, datastore.substr(7));
  } else if (datastore.rfind("postgres://", 0) == 0 || datastore.rfind("postgresql://", 0) == 0) {
    config.datastore = datastore;
  } else {
    root.Error("datastore", "expected sqlite:<path> or postgres://...");
  }
}

void ReadServerId(YamlMap& root, ServerConfig& config) {
  config.server_id = root.String("server_id").value_or("");
  if (!root.Has("server_id")) return;
  const bool valid =
      !config.server_id.empty() && config.server_id.size() <= 64 &&
      config.server_id.find_first_not_of(
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
  if (!valid) root.Error("server_id", "expected 1 to 64 of the characters A-Z a-z 0-9 . _ -");
}

}  // namespace

absl::StatusOr<ServerConfig> ParseServerConfig(std::string_view yaml, const std::string& file,
                                               const std::string& base_dir) {
  common::YamlErrors errors(file);
  YamlMap root(common::LoadYamlString(yaml, &errors), "", &errors);
  ServerConfig config;
  ReadTrustDomain(root, config);
  ReadServerId(root, config);
  config.data_dir = common::ResolveConfigPath(base_dir, root.RequiredString("data_dir"));
  ReadListen(root.Map("listen"), config);
  if (config.admin_socket.empty()) config.admin_socket = config.data_dir + "/admin.sock";
  config.admin_socket = common::ResolveConfigPath(base_dir, config.admin_socket);
  ReadDatastore(root, base_dir, config);
  config.zones_dir = common::ResolveConfigPath(base_dir, root.RequiredString("zones_dir"));
  common::ReadLogSection(root.Map("log"), &config.log_level, &config.log_format);
  ReadDurations(root, config);
  config.x509pop_ca_bundle =
      common::ResolveConfigPath(base_dir, root.String("x509pop_ca_bundle").value_or(""));
  ReadUpstreams(root, base_dir, config);
  ReadLimits(root.Map("limits"), config);
  ReadFederation(root.Map("federation"), base_dir, config);
  root.RejectUnknownKeys();
  if (!errors.ok()) return errors.status();
  if (config.max_concurrent_signings == 0) {
    config.max_concurrent_signings =
        static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  }
  return config;
}

absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(common::StrCat(path, ": cannot read config file"));
  std::stringstream text;
  text << in.rdbuf();
  std::string base_dir = std::filesystem::absolute(path).parent_path().string();
  return ParseServerConfig(text.str(), path, base_dir);
}

}  // namespace spinel::server
