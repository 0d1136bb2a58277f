// Workload-side attacks on the real spinel-agent's Workload API socket, by processes running
// as other uids (setpriv): a process matching no entry, one with the registered uid but another
// executable path than the entry's unix:path selector, and one whose uid is registered only
// for another identity. Each gets PERMISSION_DENIED for X.509 and JWT, and no SVID; processes
// that do match (by uid, and by uid and path) are served, so the refusals are the selectors'.
// A pid reused between the peer-credential lookup and the /proc read is covered by the
// identity-guard unit tests (tests/agent/attestor/workload_attestor_test.cc, "Identity guard:
// a pid reused during attestation fails, never yields the new process").
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/security/attack_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;

namespace {

constexpr int kByUid = 4301;      // registered by uid
constexpr int kWrongPath = 4302;  // registered by uid and another executable's path
constexpr int kByPath = 4303;     // registered by uid and spinel-agent's own path
constexpr int kStranger = 4304;   // matches nothing
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kRetriever[] = "spiffe://retrieval.ai.example.org/retriever";
constexpr char kRunner[] = "spiffe://tools.ai.example.org/runner";

void CheckDenied(const AgentProcess& agent, int uid) {
  INFO("uid " << uid);
  CommandResult x509 = agent.Api("api fetch x509 --output json", uid);
  CHECK_MESSAGE(x509.exit_code != 0, x509.Describe());
  CHECK_MESSAGE(Contains(x509.err, "PERMISSION_DENIED"), x509.Describe());
  CHECK_FALSE(Contains(x509.out, "spiffe://"));
  CommandResult jwt = agent.Api("api fetch jwt --audience db --output json", uid);
  CHECK_MESSAGE(jwt.exit_code != 0, jwt.Describe());
  CHECK_MESSAGE(Contains(jwt.err, "PERMISSION_DENIED"), jwt.Describe());
  CHECK_FALSE(Contains(jwt.out, "spiffe://"));
}

}  // namespace

TEST_CASE("attack: unregistered, wrong-path and other-uid processes get PERMISSION_DENIED") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  auto [token, agent_id] = spinel::testing::NewJoinToken(server);
  AgentProcess agent(dir, server);
  const std::string own_path = std::filesystem::canonical(agent.binary()).string();
  spinel::testing::Register(server, kModel, agent_id, kByUid);
  spinel::testing::Register(server, kRunner, agent_id, kWrongPath,
                            "--selector unix:path:/usr/bin/openssl");
  spinel::testing::Register(server, kRetriever, agent_id, kByPath,
                            "--selector unix:path:" + spinel::testing::ShellQuote(own_path));
  agent.Start(token);

  // The controls: served by uid, and by uid and path.
  const std::vector<std::pair<int, std::string>> served_workloads = {{kByUid, kModel},
                                                                     {kByPath, kRetriever}};
  for (const auto& workload : served_workloads) {
    const int uid = workload.first;
    CommandResult fetched;
    bool served = spinel::testing::WaitFor([&] {
      fetched = agent.Api("api fetch x509 --output json", uid);
      return fetched.exit_code == 0;
    });
    REQUIRE_MESSAGE(served, fetched.Describe() << agent.Log());
    json svids = ParseJsonOutput(fetched)["svids"];
    REQUIRE(svids.size() == 1);
    CHECK(svids[0]["spiffe_id"] == workload.second);
  }

  CheckDenied(agent, kStranger);
  CheckDenied(agent, kWrongPath);
  // kByUid's process asks for the identity registered for kWrongPath's: it only ever gets its
  // own.
  CommandResult other = agent.Api(std::string("api fetch jwt --audience db --output json "
                                              "--spiffe-id ") +
                                      kRunner,
                                  kByUid);
  CHECK_MESSAGE(other.exit_code != 0, other.Describe());
  CHECK_FALSE(Contains(other.out, kRunner));
  CHECK(agent.Running());
}
