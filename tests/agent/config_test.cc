// agent/config: the strict YAML agent config. Every error names the file, the line and the key.
#include "agent/config.h"

#include <doctest/doctest.h>

#include <string>

#include "tests/fakes/temp_dir.h"

using namespace std::chrono_literals;
using spinel::agent::AgentConfig;
using spinel::agent::LoadAgentConfig;
using spinel::agent::ParseAgentConfig;

namespace {

constexpr char kMinimal[] =
    "trust_domain: control.example.org\n"
    "server_address: spinel.example.org:8081\n"
    "trust_bundle: bootstrap.pem\n"
    "data_dir: data\n"
    "socket_path: /run/spinel/agent/workload.sock\n";

std::string ErrorOf(const std::string& yaml) {
  absl::StatusOr<AgentConfig> config = ParseAgentConfig(yaml, "agent.yaml", "/etc/spinel");
  REQUIRE_MESSAGE(!config.ok(), "accepted:\n" << yaml);
  CHECK(absl::IsInvalidArgument(config.status()));
  return std::string(config.status().message());
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("agent config: a minimal file gets the documented defaults and resolved paths") {
  absl::StatusOr<AgentConfig> config = ParseAgentConfig(kMinimal, "agent.yaml", "/etc/spinel");
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  CHECK(config->trust_domain.name() == "control.example.org");
  CHECK(config->server_address == "spinel.example.org:8081");
  // Relative paths are relative to the config file's directory; absolute ones stay.
  CHECK(config->trust_bundle_path == "/etc/spinel/bootstrap.pem");
  CHECK(config->data_dir == "/etc/spinel/data");
  CHECK(config->socket_path == "/run/spinel/agent/workload.sock");
  CHECK(config->join_token.empty());
  CHECK(config->x509pop_cert_path.empty());
  CHECK(config->sign_batch_size == 500);
  CHECK(config->reconnect_min == 500ms);
  CHECK(config->reconnect_max == 30s);
  CHECK(config->log_level == spinel::common::LogLevel::kInfo);
}

TEST_CASE("agent config: every optional section is read") {
  std::string yaml = std::string(kMinimal) +
                     "attestation:\n"
                     "  join_token_file: token.txt\n"
                     "  x509pop: {cert: node.pem, key: /keys/node.key}\n"
                     "log: {level: debug, format: json}\n"
                     "sign_batch_size: 20\n"
                     "audit_buffer_size: 7\n"
                     "reconnect: {min: 250ms, max: 1m}\n";
  absl::StatusOr<AgentConfig> config = ParseAgentConfig(yaml, "agent.yaml", "/etc/spinel");
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  CHECK(config->join_token_file == "/etc/spinel/token.txt");
  CHECK(config->x509pop_cert_path == "/etc/spinel/node.pem");
  CHECK(config->x509pop_key_path == "/keys/node.key");
  CHECK(config->log_level == spinel::common::LogLevel::kDebug);
  CHECK(config->log_format == spinel::common::LogFormat::kJson);
  CHECK(config->sign_batch_size == 20);
  CHECK(config->audit_buffer_size == 7);
  CHECK(config->reconnect_min == 250ms);
  CHECK(config->reconnect_max == 60s);
}

TEST_CASE("agent config: errors name the file, the line and the key") {
  SUBCASE("unknown top-level key, on its own line") {
    std::string message = ErrorOf(std::string(kMinimal) + "sever_address: typo:1\n");
    CHECK_MESSAGE(Contains(message, "agent.yaml:6:"), message);
    CHECK_MESSAGE(Contains(message, "sever_address"), message);
  }
  SUBCASE("unknown nested key names its full path") {
    std::string message =
        ErrorOf(std::string(kMinimal) + "attestation:\n  join_token: abc\n  jointoken: x\n");
    CHECK_MESSAGE(Contains(message, "agent.yaml:8:"), message);
    CHECK_MESSAGE(Contains(message, "attestation.jointoken"), message);
  }
  SUBCASE("missing required key") {
    std::string message = ErrorOf(
        "trust_domain: control.example.org\n"
        "trust_bundle: b.pem\n"
        "data_dir: d\n"
        "socket_path: s\n");
    CHECK_MESSAGE(Contains(message, "agent.yaml"), message);
    CHECK_MESSAGE(Contains(message, "server_address: missing required key"), message);
  }
  SUBCASE("a SPIFFE ID where a bare trust domain belongs") {
    std::string message = ErrorOf(
        "server_address: a:1\n"
        "trust_domain: spiffe://control.example.org\n"
        "trust_bundle: b.pem\n"
        "data_dir: d\n"
        "socket_path: s\n");
    CHECK_MESSAGE(Contains(message, "agent.yaml:2:"), message);
    CHECK_MESSAGE(Contains(message, "trust_domain"), message);
  }
  SUBCASE("bad duration") {
    std::string message = ErrorOf(std::string(kMinimal) + "reconnect:\n  min: soon\n");
    CHECK_MESSAGE(Contains(message, "agent.yaml:7:"), message);
    CHECK_MESSAGE(Contains(message, "reconnect.min"), message);
  }
  SUBCASE("reconnect min above max") {
    std::string message = ErrorOf(std::string(kMinimal) + "reconnect: {min: 10s, max: 1s}\n");
    CHECK_MESSAGE(Contains(message, "reconnect"), message);
    CHECK_MESSAGE(Contains(message, "min must not be greater than max"), message);
  }
  SUBCASE("batch size out of range") {
    std::string message = ErrorOf(std::string(kMinimal) + "sign_batch_size: 0\n");
    CHECK_MESSAGE(Contains(message, "agent.yaml:6:"), message);
    CHECK_MESSAGE(Contains(message, "sign_batch_size"), message);
  }
  SUBCASE("x509pop needs both halves") {
    std::string message =
        ErrorOf(std::string(kMinimal) + "attestation:\n  x509pop: {cert: node.pem}\n");
    CHECK_MESSAGE(Contains(message, "attestation.x509pop"), message);
    CHECK_MESSAGE(Contains(message, "needs both cert and key"), message);
  }
  SUBCASE("bad log level") {
    std::string message = ErrorOf(std::string(kMinimal) + "log: {level: loud}\n");
    CHECK_MESSAGE(Contains(message, "log.level"), message);
  }
  SUBCASE("YAML syntax error") {
    std::string message = ErrorOf(std::string(kMinimal) + "reconnect: {min: 1s\n");
    CHECK_MESSAGE(Contains(message, "agent.yaml:"), message);
    CHECK_MESSAGE(Contains(message, "YAML syntax error"), message);
  }
}

TEST_CASE("agent config: LoadAgentConfig resolves paths against the file and names it") {
  spinel::testing::TempDir dir;
  std::string path = dir.Write("agent.yaml", kMinimal);
  absl::StatusOr<AgentConfig> config = LoadAgentConfig(path);
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  CHECK(config->data_dir == dir.File("data"));
  CHECK(config->trust_bundle_path == dir.File("bootstrap.pem"));

  absl::StatusOr<AgentConfig> missing = LoadAgentConfig(dir.File("absent.yaml"));
  REQUIRE(!missing.ok());
  CHECK(absl::IsInvalidArgument(missing.status()));
  CHECK(Contains(std::string(missing.status().message()), dir.File("absent.yaml")));
  CHECK(Contains(std::string(missing.status().message()), "cannot read config file"));

  std::string bad = dir.Write("bad.yaml", std::string(kMinimal) + "colour: blue\n");
  absl::StatusOr<AgentConfig> refused = LoadAgentConfig(bad);
  REQUIRE(!refused.ok());
  CHECK(Contains(std::string(refused.status().message()), bad + ":6:"));
}

TEST_CASE("agent config: servers lists every replica; server_address is one server") {
  constexpr char kRest[] =
      "trust_domain: control.example.org\n"
      "trust_bundle: bootstrap.pem\n"
      "data_dir: data\n"
      "socket_path: s\n";
  auto single = ParseAgentConfig(kMinimal, "agent.yaml", "/etc/spinel");
  REQUIRE(single.ok());
  CHECK(single->servers == std::vector<std::string>{"spinel.example.org:8081"});
  auto several =
      ParseAgentConfig(std::string(kRest) + "servers: [a.example.org:8081, 10.0.0.2:9]\n",
                       "agent.yaml", "/etc/spinel");
  REQUIRE_MESSAGE(several.ok(), several.status().ToString());
  CHECK(several->servers == std::vector<std::string>{"a.example.org:8081", "10.0.0.2:9"});
  CHECK(several->server_address == "a.example.org:8081");

  SUBCASE("both keys") {
    std::string message = ErrorOf(std::string(kMinimal) + "servers: [a:1]\n");
    CHECK_MESSAGE(Contains(message, "agent.yaml:6:"), message);
    CHECK_MESSAGE(Contains(message, "either server_address or servers"), message);
  }
  SUBCASE("empty list") {
    std::string message = ErrorOf(std::string(kRest) + "servers: []\n");
    CHECK_MESSAGE(Contains(message, "servers: must list at least one host:port"), message);
  }
  SUBCASE("not host:port") {
    for (const char* bad : {"b", "c:70000", ":5", "d:", "e:8x"}) {
      std::string message = ErrorOf(std::string(kRest) + "servers: [a:1, '" + bad + "']\n");
      CHECK_MESSAGE(Contains(message, std::string("servers: expected host:port, got \"") + bad),
                    message);
    }
  }
  SUBCASE("bad server_address") {
    std::string message = ErrorOf(std::string(kRest) + "server_address: nohost\n");
    CHECK_MESSAGE(Contains(message, "server_address: expected host:port"), message);
  }
}
