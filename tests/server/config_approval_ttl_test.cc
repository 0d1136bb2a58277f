// spinel-server configuration: the step-up approval lifetime (approval_ttl).
#include <doctest/doctest.h>

#include <string>

#include "server/config.h"

using spinel::server::ParseServerConfig;

namespace {

constexpr char kMinimal[] =
    "trust_domain: spinel.example.org\n"
    "data_dir: data\n"
    "zones_dir: zones\n";

absl::StatusOr<spinel::server::ServerConfig> Parse(const std::string& extra) {
  return ParseServerConfig(std::string(kMinimal) + extra, "server.yaml", "/etc/spinel");
}

}  // namespace

TEST_CASE("server config: approval_ttl defaults to 10m and accepts 1s..24h") {
  auto defaults = Parse("");
  REQUIRE(defaults.ok());
  CHECK(defaults->approval_ttl == std::chrono::minutes(10));
  auto set = Parse("approval_ttl: 90s\n");
  REQUIRE_MESSAGE(set.ok(), set.status().ToString());
  CHECK(set->approval_ttl == std::chrono::seconds(90));
  CHECK(Parse("approval_ttl: 24h\n").ok());
}

TEST_CASE("server config: an approval_ttl out of range or malformed names file, line and key") {
  for (const char* value : {"0s", "25h", "soon"}) {
    auto refused = Parse(std::string("approval_ttl: ") + value + "\n");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
    const std::string message(refused.status().message());
    CHECK(message.find("server.yaml:4") != std::string::npos);
    CHECK(message.find("approval_ttl") != std::string::npos);
  }
}
