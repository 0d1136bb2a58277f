// Wire compatibility: an independent client (Debian's python3-grpcio, stubs generated at test
// time from tests/agent/workload_api/workload_spec.proto, written from the spec's field tables)
// talks to the Workload API over the real socket.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "agent/wit_rotator.h"
#include "common/base64.h"
#include "common/jwt_svid.h"
#include "common/x509_svid_validator.h"
#include "tests/agent/workload_api/workload_api_fixture.h"

namespace spinel::testing {
namespace {

constexpr char kModelId[] = "spiffe://inference.example.org/model-server";

std::filesystem::path TestSourceDir() {
  std::filesystem::path here = std::filesystem::path(__FILE__).parent_path();
  if (here.is_absolute() && std::filesystem::exists(here / "workload_spec.proto")) return here;
  const char* source = std::getenv("SPINEL_SOURCE_DIR");
  REQUIRE(source != nullptr);
  return std::filesystem::path(source) / "tests/agent/workload_api";
}

// Generates the Python stubs into <dir>/stubs (with the client script) and returns that path.
std::string GenerateStubs(const TempDir& dir) {
  const std::filesystem::path source = TestSourceDir();
  const std::string stubs = dir.File("stubs");
  std::filesystem::create_directories(stubs);
  std::filesystem::copy_file(source / "workload_spec.proto", stubs + "/workload_spec.proto");
  std::filesystem::copy_file(source / "wire_client.py", stubs + "/wire_client.py");
  RunResult protoc = Run(dir,
                         "cd stubs && /usr/bin/protoc -I. -I/usr/include --python_out=. "
                         "--grpc_python_out=. "
                         "--plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin "
                         "workload_spec.proto");
  REQUIRE_MESSAGE(protoc.exit_code == 0, protoc.output);
  return stubs;
}

// Runs the client (optionally as another user) and parses the JSON it prints last.
nlohmann::json RunClient(const WorkloadApiWorld& world, const std::string& stubs,
                         const std::string& test_case, const std::string& as_user = "") {
  std::string command = "(PYTHONDONTWRITEBYTECODE=1 " + as_user + " /usr/bin/python3 " + stubs +
                        "/wire_client.py " + stubs + " " + world.socket_path + " " + test_case +
                        " 2>client-stderr.txt)";
  RunResult result = Run(world.dir, command);
  INFO("client output: " << result.output);
  REQUIRE(result.exit_code == 0);
  auto last = result.output.find_last_of('{') == std::string::npos
                  ? std::string()
                  : result.output.substr(result.output.rfind("\n{") == std::string::npos
                                             ? 0
                                             : result.output.rfind("\n{") + 1);
  nlohmann::json parsed = nlohmann::json::parse(last, nullptr, false);
  REQUIRE_FALSE(parsed.is_discarded());
  return parsed;
}

std::string Unbase64(const nlohmann::json& value) {
  auto decoded = common::Base64Decode(value.get<std::string>());
  REQUIRE(decoded.ok());
  return *decoded;
}

TEST_CASE("Workload API: an independent Python client without the header gets InvalidArgument") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  world.Issue("e1");
  nlohmann::json out = RunClient(world, GenerateStubs(world.dir), "no_header");
  CHECK(out["x509"] == "INVALID_ARGUMENT");
  CHECK(out["jwt"] == "INVALID_ARGUMENT");
  CHECK(out["validate"] == "INVALID_ARGUMENT");
  CHECK(out["jwt_bundles"] == "INVALID_ARGUMENT");
  CHECK(out["wit"] == "INVALID_ARGUMENT");
  CHECK(out["wit_bundles"] == "INVALID_ARGUMENT");
}

TEST_CASE("Workload API: an independent Python client gets and uses its identities") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)}, "internal");
  world.Sync();
  world.Issue("e1");
  agent::WitRotator wit_rotator(world.cache, world.wit_minter, world.clock, 10);
  wit_rotator.Start();  // mints the WIT-SVID once the client asks for one
  nlohmann::json out = RunClient(world, GenerateStubs(world.dir), "registered");
  wit_rotator.Stop();

  REQUIRE(out["svids"].size() == 1);
  const nlohmann::json& svid = out["svids"][0];
  CHECK(svid["spiffe_id"] == kModelId);
  CHECK(svid["hint"] == "internal");
  auto own = common::ParseOwnX509Svid(Unbase64(svid["x509_svid"]), Unbase64(svid["x509_svid_key"]));
  REQUIRE_MESSAGE(own.ok(), own.status().ToString());
  auto bundle = common::Certificate::ParseDerChain(Unbase64(svid["bundle"]));
  REQUIRE(bundle.ok());
  common::X509AuthorityMap authorities;
  authorities.Set(own->id.trust_domain(), *bundle);
  auto verified =
      common::VerifyX509SvidDer(Unbase64(svid["x509_svid"]), authorities, world.clock.Now());
  CHECK_MESSAGE(verified.ok(), verified.status().ToString());

  CHECK(out["federated_bundles"].size() == 1);
  CHECK(Unbase64(out["federated_bundles"]["spiffe://retrieval.example.org"]) ==
        world.zone("retrieval").root.cert().ToDer());
  CHECK(out["x509_bundles"].size() == 2);
  CHECK(out["x509_bundles"].contains("spiffe://inference.example.org"));
  REQUIRE(out["jwt_bundles"].size() == 2);
  for (const auto& [td, jwks] : out["jwt_bundles"].items()) {
    for (const auto& key : jwks["keys"]) CHECK(key["use"] == "jwt-svid");
  }

  REQUIRE(out["jwt_svids"].size() == 1);
  CHECK(out["jwt_svids"][0]["spiffe_id"] == kModelId);
  CHECK(out["validated"]["spiffe_id"] == kModelId);
  CHECK(out["validated"]["claims"]["sub"] == kModelId);
  CHECK(out["validated"]["claims"]["aud"] == "wire-test");
  CHECK(out["validate_wrong_audience"] == "INVALID_ARGUMENT");
  CHECK(out["no_audience"] == "INVALID_ARGUMENT");
  // The WIT-SVID profile: the identity, a private JWK with alg = cnf.jwk.alg, and WIT bundles
  // (JSON text) of the zone and its peer holding only wit-svid keys.
  CHECK(out["wit"]["spiffe_id"] == kModelId);
  CHECK(out["wit"]["hint"] == "internal");
  CHECK(out["wit"]["key_alg"] == "ES256");
  CHECK(out["wit"]["cnf_alg"] == "ES256");
  REQUIRE(out["wit_bundles"].size() == 2);
  for (const auto& [td, jwks] : out["wit_bundles"].items()) {
    for (const auto& key : jwks["keys"]) CHECK(key["use"] == "wit-svid");
  }
}

TEST_CASE("Workload API: a process of another uid is attested by its own uid and denied") {
  if (::getuid() != 0) {
    MESSAGE("skipped: needs root to run the client as nobody");
    return;
  }
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  world.Issue("e1");
  const std::string stubs = GenerateStubs(world.dir);
  for (const std::string& path : {world.dir.path(), stubs}) {
    REQUIRE(::chmod(path.c_str(), 0755) == 0);
  }
  nlohmann::json out =
      RunClient(world, stubs, "unregistered", "setpriv --reuid=65534 --regid=65534 --clear-groups");
  CHECK(out["jwt"] == "PERMISSION_DENIED");
  CHECK(out["x509"] == "PERMISSION_DENIED");  // no entry matches: refused, as the spec says
  CHECK(world.last_attested_pid.load() != ::getpid());

  // Registering nobody's uid gives it the identity, through the same socket.
  world.PutEntry("e2", "spiffe://inference.example.org/nobody", {UidSelector(65534)});
  world.Sync();
  world.Issue("e2");
  agent::WitRotator wit_rotator(world.cache, world.wit_minter, world.clock, 10);
  wit_rotator.Start();
  out = RunClient(world, stubs, "registered", "setpriv --reuid=65534 --regid=65534 --clear-groups");
  wit_rotator.Stop();
  REQUIRE(out["svids"].size() == 1);
  CHECK(out["svids"][0]["spiffe_id"] == "spiffe://inference.example.org/nobody");
  CHECK(out["wit"]["spiffe_id"] == "spiffe://inference.example.org/nobody");
}

}  // namespace
}  // namespace spinel::testing
