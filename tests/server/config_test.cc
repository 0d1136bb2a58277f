// spinel-server configuration (server/config.cc): defaults, path resolution against the config
// file, and errors that name the file, line and key of every problem.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include "server/config.h"
#include "tests/fakes/temp_dir.h"

using spinel::server::LoadServerConfig;
using spinel::server::ParseServerConfig;
using spinel::server::ServerConfig;

namespace {

constexpr char kMinimal[] =
    "trust_domain: spinel.example.org\n"
    "data_dir: data\n"
    "zones_dir: zones\n";

// `text` is a std::string, std::string_view or absl::string_view (not the same type here).
template <typename Text>
bool Contains(const Text& text, std::string_view part) {
  return std::string_view(text.data(), text.size()).find(part) != std::string_view::npos;
}

// The error for `yaml` (REQUIREs that there is one).
std::string ErrorFor(const std::string& yaml) {
  absl::StatusOr<ServerConfig> config = ParseServerConfig(yaml, "server.yaml", "/etc/spinel");
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

}  // namespace

TEST_CASE("server config: a minimal file gets the documented defaults") {
  absl::StatusOr<ServerConfig> config = ParseServerConfig(kMinimal, "server.yaml", "/etc/spinel");
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  CHECK(config->trust_domain.name() == "spinel.example.org");
  CHECK(config->data_dir == "/etc/spinel/data");  // relative to the config file
  CHECK(config->zones_dir == "/etc/spinel/zones");
  CHECK(config->admin_socket == "/etc/spinel/data/admin.sock");
  CHECK(config->datastore == "sqlite:/etc/spinel/data/datastore.sqlite3");
  CHECK(config->agent_api_address == "127.0.0.1:8081");
  CHECK(config->https_address == "127.0.0.1:8443");
  CHECK(config->ca_ttl == std::chrono::hours(24));
  CHECK(config->agent_svid_ttl == std::chrono::hours(1));
  CHECK(config->default_join_token_ttl == std::chrono::minutes(10));
  CHECK(config->x509pop_ca_bundle.empty());
  CHECK(config->max_concurrent_signings >= 1);  // 0 means "number of CPUs"
  CHECK(config->signings_per_agent_per_second == 10000);
}

TEST_CASE("server config: every key set") {
  const std::string yaml =
      std::string(kMinimal) +
      "listen:\n"
      "  agent_api: 0.0.0.0:9081\n"
      "  admin_socket: /run/spinel/admin.sock\n"
      "  https: ''\n"
      "datastore: sqlite:state/db.sqlite3\n"
      "log: {level: debug, format: json}\n"
      "ca_ttl: 48h\n"
      "agent_svid_ttl: 2h\n"
      "server_svid_ttl: 30m\n"
      "join_token_ttl: 1h\n"
      "x509pop_ca_bundle: nodes.pem\n"
      "upstream_authorities:\n"
      "  - {zone: inference, cert: up/ca.pem, key: /keys/ca.key}\n"
      "limits: {max_concurrent_signings: 8, signings_per_agent_per_second: 50}\n";
  absl::StatusOr<ServerConfig> config = ParseServerConfig(yaml, "server.yaml", "/etc/spinel");
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  CHECK(config->agent_api_address == "0.0.0.0:9081");
  CHECK(config->admin_socket == "/run/spinel/admin.sock");
  CHECK(config->https_address.empty());
  CHECK(config->datastore == "sqlite:/etc/spinel/state/db.sqlite3");
  CHECK(config->log_level == spinel::common::LogLevel::kDebug);
  CHECK(config->log_format == spinel::common::LogFormat::kJson);
  CHECK(config->ca_ttl == std::chrono::hours(48));
  CHECK(config->agent_svid_ttl == std::chrono::hours(2));
  CHECK(config->server_svid_ttl == std::chrono::minutes(30));
  CHECK(config->default_join_token_ttl == std::chrono::hours(1));
  CHECK(config->x509pop_ca_bundle == "/etc/spinel/nodes.pem");
  REQUIRE(config->upstream_authorities.count("inference") == 1);
  CHECK(config->upstream_authorities.at("inference").cert_path == "/etc/spinel/up/ca.pem");
  CHECK(config->upstream_authorities.at("inference").key_path == "/keys/ca.key");
  CHECK(config->max_concurrent_signings == 8);
  CHECK(config->signings_per_agent_per_second == 50);
}

TEST_CASE("server config: errors name the file, line and key") {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {std::string(kMinimal) + "bogus: 1\n", "server.yaml:4:1: bogus"},
      {std::string(kMinimal) + "listen:\n  agent_api: x:1\n  admin: /a\n", "server.yaml:6:3"},
      {std::string(kMinimal) + "ca_ttl: 10x\n",
       "server.yaml:4:1: ca_ttl: invalid duration \"10x\""},
      {std::string(kMinimal) + "join_token_ttl: soon\n", "server.yaml:4:1: join_token_ttl"},
      {std::string(kMinimal) + "ca_ttl: 1h\n", "agent_svid_ttl: must be at most half of ca_ttl"},
      {"trust_domain: spiffe://spinel.example.org\ndata_dir: d\nzones_dir: z\n",
       "server.yaml:1:1: trust_domain: give the bare trust domain name"},
      {"trust_domain: Spinel.Example\ndata_dir: d\nzones_dir: z\n",
       "server.yaml:1:1: trust_domain"},
      {"trust_domain: spinel.example.org\nzones_dir: z\n", "data_dir"},
      {std::string(kMinimal) + "datastore: mysql://db\n", "server.yaml:4:1: datastore"},
      {std::string(kMinimal) + "limits: {max_concurrent_signings: -1}\n",
       "max_concurrent_signings"},
      {std::string(kMinimal) + "log: {level: loud}\n", "level"},
      {std::string(kMinimal) +
           "upstream_authorities:\n  - {zone: a, cert: c, key: k}\n  - {zone: a, cert: d, key: "
           "l}\n",
       "more than one upstream authority"},
      {"trust_domain: [\n", "server.yaml:"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.yaml);
    std::string error = ErrorFor(c.yaml);
    CHECK_MESSAGE(Contains(error, c.expected), error);
  }
}

TEST_CASE("server config: LoadServerConfig resolves paths against the file's directory") {
  spinel::testing::TempDir dir;
  dir.Write("server.yaml", kMinimal);
  const std::string path = dir.File("server.yaml");
  absl::StatusOr<ServerConfig> config = LoadServerConfig(path);
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  CHECK(config->data_dir == dir.File("data"));

  absl::StatusOr<ServerConfig> missing = LoadServerConfig(dir.File("nope.yaml"));
  CHECK(missing.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(missing.status().message(), dir.File("nope.yaml")));

  dir.Write("bad.yaml", std::string(kMinimal) + "ca_ttl: forever\n");
  absl::StatusOr<ServerConfig> bad = LoadServerConfig(dir.File("bad.yaml"));
  CHECK(Contains(bad.status().message(), dir.File("bad.yaml") + ":4:1: ca_ttl"));
}

TEST_CASE("server config: the shipped example parses and points at the shipped zones") {
  const char* root = std::getenv("SPINEL_SOURCE_DIR");
  const std::filesystem::path source =
      root != nullptr && *root != '\0'
          ? std::filesystem::path(root)
          : std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  absl::StatusOr<ServerConfig> config =
      LoadServerConfig((source / "server" / "server.example.yaml").string());
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  CHECK(config->trust_domain.name() == "spinel.ai.example.org");
  CHECK(config->admin_socket == "/var/lib/spinel/server/admin.sock");  // the CLI's default
  CHECK(config->datastore == "sqlite:/var/lib/spinel/server/datastore.sqlite3");
  CHECK(std::filesystem::equivalent(config->zones_dir, source / "trust-zones" / "zones"));
}
