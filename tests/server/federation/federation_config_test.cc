// The `federation:` section of the spinel-server config (server/config.cc).
#include <doctest/doctest.h>

#include <string>

#include "server/config.h"

using spinel::server::ParseServerConfig;
using spinel::server::ServerConfig;

namespace {

constexpr char kMinimal[] =
    "trust_domain: spinel.example.org\n"
    "data_dir: data\n"
    "zones_dir: zones\n";

absl::StatusOr<ServerConfig> Parse(const std::string& federation) {
  return ParseServerConfig(std::string(kMinimal) + "federation:\n" + federation, "server.yaml",
                           "/etc/spinel");
}

std::string ErrorFor(const std::string& federation) {
  absl::StatusOr<ServerConfig> config = Parse(federation);
  REQUIRE_FALSE(config.ok());
  CHECK(config.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(config.status().message());
}

}  // namespace

TEST_CASE("federation config: defaults without the section") {
  auto config = ParseServerConfig(kMinimal, "server.yaml", "/etc/spinel");
  REQUIRE(config.ok());
  CHECK(config->federation.bundle_endpoints.empty());
  CHECK(config->federation.refresh_interval_default == std::chrono::minutes(5));
}

TEST_CASE("federation config: bundle endpoints of both profiles, paths resolved") {
  auto config = Parse(
      "  bundle_endpoints:\n"
      "    - zone: inference\n"
      "      address: 127.0.0.1:0\n"
      "    - zone: retrieval\n"
      "      address: 0.0.0.0:8445\n"
      "      profile: https_web\n"
      "      cert_file: web.pem\n"
      "      key_file: /keys/web.key\n"
      "  refresh_interval_default: 30s\n");
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  const auto& endpoints = config->federation.bundle_endpoints;
  REQUIRE(endpoints.size() == 2);
  CHECK(endpoints[0].zone == "inference");
  CHECK(endpoints[0].address == "127.0.0.1:0");
  CHECK(endpoints[0].profile == "https_spiffe");
  CHECK(endpoints[0].cert_path.empty());
  CHECK(endpoints[1].profile == "https_web");
  CHECK(endpoints[1].cert_path == "/etc/spinel/web.pem");
  CHECK(endpoints[1].key_path == "/keys/web.key");
  CHECK(config->federation.refresh_interval_default == std::chrono::seconds(30));
}

TEST_CASE("federation config: bad bundle endpoints name the key") {
  CHECK(ErrorFor("  bundle_endpoints:\n    - zone: spinel.example.org\n      address: a:1\n")
            .find("federation.bundle_endpoints[0].zone") != std::string::npos);
  CHECK(ErrorFor("  bundle_endpoints:\n    - zone: z\n      address: nope\n").find("host:port") !=
        std::string::npos);
  CHECK(ErrorFor("  bundle_endpoints:\n    - zone: z\n      address: a:1\n      profile: ftp\n")
            .find("https_spiffe or https_web") != std::string::npos);
  CHECK(ErrorFor("  bundle_endpoints:\n    - zone: z\n      address: a:1\n"
                 "      profile: https_web\n")
            .find("cert_file") != std::string::npos);
  CHECK(ErrorFor("  bundle_endpoints:\n    - zone: z\n      address: a:1\n"
                 "      cert_file: c.pem\n")
            .find("only with profile https_web") != std::string::npos);
  CHECK(ErrorFor("  bundle_endpoints:\n    - {zone: z, address: 'a:1'}\n"
                 "    - {zone: z, address: 'a:2'}\n")
            .find("more than one bundle endpoint") != std::string::npos);
  CHECK(ErrorFor("  bundle_endpoints:\n    - {zone: z, address: 'a:1', port: 3}\n").find("port") !=
        std::string::npos);
  CHECK(ErrorFor("  refresh_interval_default: 2h\n").find("between 1s and 1h") !=
        std::string::npos);
}
