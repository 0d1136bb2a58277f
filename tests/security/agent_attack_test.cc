// Attacks on the real spinel-server's agent API, by a hand-built agent (tests/security/
// attack_util.h: generated gRPC stubs over TLS, as spinel-agent talks to it) with the operator
// CLI for tokens, entries, bans and evictions. Each attack must be refused with
// PERMISSION_DENIED and a reason, and leave an audit event (server/audit/audit_log.h):
//   - a join token used a second time, an expired token  -> agent.attestation_refused;
//   - a banned agent attesting again with a new token for its ID, and using its SVID;
//   - an evicted agent reusing its old (still unexpired) SVID   -> x509_svid.refused;
//   - CSRs for an entry parented to another agent, naming a SPIFFE ID that is not the entry's,
//     for an entry of a zone the agent's node may not host    -> x509_svid.refused.
// The audit chain still verifies afterwards. Unit-level versions: tests/server/
// agent_service_test.cc, agent_service_refusals_test.cc, agent_auth_test.cc.
#include <doctest/doctest.h>

#include <filesystem>
#include <thread>

#include "tests/security/attack_util.h"

using nlohmann::json;
using spinel::testing::AgentCredentials;
using spinel::testing::AttackerAgentApi;
using spinel::testing::AuditEvents;
using spinel::testing::CommandResult;
using spinel::testing::Contains;
using spinel::testing::EventWithReason;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;

namespace {

constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kRunner[] = "spiffe://tools.ai.example.org/runner";
constexpr char kTrainer[] = "spiffe://training.ai.example.org/trainer";

json Token(const ServerProcess& server, const std::string& flags = "--ttl 5m") {
  return ParseJsonOutput(server.Cli("token generate " + flags + " --output json"));
}

AgentCredentials AttestOk(const AttackerAgentApi& api, const std::string& token) {
  std::optional<AgentCredentials> agent;
  grpc::Status status = api.Attest(token, &agent);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  return *std::move(agent);
}

json Details(const json& event) { return json::parse(event["details"].get<std::string>()); }

void CheckChainVerifies(const ServerProcess& server) {
  CommandResult verified = server.Cli("audit verify");
  CHECK_MESSAGE(verified.exit_code == 0, verified.Describe());
}

}  // namespace

TEST_CASE("attack: a join token replayed or expired is refused, audited without the token") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  AttackerAgentApi api(server);

  const std::string used = Token(server)["token"];
  AgentCredentials agent = AttestOk(api, used);
  grpc::Status replayed = api.Attest(used);
  CHECK(replayed.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_MESSAGE(Contains(replayed.error_message(), "already used"), replayed.error_message());

  json short_lived = Token(server, "--ttl 1s");
  const std::string expired = short_lived["token"];
  // Token expiry has one-second resolution: 2.5 s is past it whenever it was created.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  grpc::Status late = api.Attest(expired);
  CHECK(late.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_MESSAGE(Contains(late.error_message(), "expired"), late.error_message());

  CHECK(ParseJsonOutput(server.Cli("agent list --output json"))["agents"].size() == 1);
  json events = AuditEvents(server, "agent.attestation_refused");
  REQUIRE_MESSAGE(events.size() == 2, events.dump(2));
  json replay_event = EventWithReason(events, "already used");
  REQUIRE(!replay_event.is_null());
  CHECK(Contains(replay_event["reason"], agent.id));  // the token's agent names it
  json expired_event = EventWithReason(events, "expired");
  REQUIRE(!expired_event.is_null());
  CHECK(Contains(expired_event["reason"], short_lived["agent_spiffe_id"]));
  for (const json& event : events) {
    CHECK(event["actor"] == "server");
    CHECK(event["outcome"] == "refused");
    CHECK(Details(event)["method"] == "join_token");
    CHECK_FALSE(Contains(event.dump(), used));
    CHECK_FALSE(Contains(event.dump(), expired));
  }
  CHECK_FALSE(Contains(server.Log(), used));
  CHECK_FALSE(Contains(server.Log(), expired));
  CheckChainVerifies(server);
}

TEST_CASE("attack: a banned agent cannot attest again nor sign; an evicted agent's SVID is dead") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  AttackerAgentApi api(server);

  AgentCredentials banned = AttestOk(api, Token(server, "--ttl 5m --agent-path node-b")["token"]);
  AgentCredentials evicted = AttestOk(api, Token(server)["token"]);
  const std::string banned_entry = spinel::testing::Register(server, kModel, banned.id, 1000);
  const std::string evicted_entry = spinel::testing::Register(server, kRunner, evicted.id, 1000);
  spinel::v1::SignedSvid signed_svid;
  REQUIRE(api.Sign(banned, banned_entry, kModel, &signed_svid).ok());
  REQUIRE_MESSAGE(signed_svid.error().empty(), signed_svid.error());  // works before the ban
  REQUIRE(api.Sign(evicted, evicted_entry, kRunner, &signed_svid).ok());
  REQUIRE_MESSAGE(signed_svid.error().empty(), signed_svid.error());

  REQUIRE(server.Cli("agent ban --spiffe-id " + banned.id).exit_code == 0);
  REQUIRE(server.Cli("agent evict --spiffe-id " + evicted.id).exit_code == 0);

  grpc::Status sign_banned = api.Sign(banned, banned_entry, kModel, &signed_svid);
  CHECK(sign_banned.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_MESSAGE(Contains(sign_banned.error_message(), "banned"), sign_banned.error_message());
  grpc::Status sign_evicted = api.Sign(evicted, evicted_entry, kRunner, &signed_svid);
  CHECK(sign_evicted.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_MESSAGE(Contains(sign_evicted.error_message(), "not attested"),
                sign_evicted.error_message());

  // A fresh token for the banned agent's ID: generating it may be refused; attesting must be.
  CommandResult again = server.Cli("token generate --ttl 5m --agent-path node-b --output json");
  if (again.exit_code == 0) {
    grpc::Status reattest = api.Attest(ParseJsonOutput(again)["token"]);
    CHECK(reattest.error_code() == grpc::StatusCode::PERMISSION_DENIED);
    CHECK_MESSAGE(Contains(reattest.error_message(), "banned"), reattest.error_message());
    json refused = EventWithReason(AuditEvents(server, "agent.attestation_refused"), "banned");
    REQUIRE(!refused.is_null());
    CHECK(refused["subject"] == banned.id);
  } else {
    CHECK_MESSAGE(Contains(again.err, "banned"), again.Describe());
  }

  json signing = AuditEvents(server, "x509_svid.refused");
  json banned_event = EventWithReason(signing, "banned");
  REQUIRE_MESSAGE(!banned_event.is_null(), signing.dump(2));
  CHECK(banned_event["subject"] == banned.id);
  CHECK(Details(banned_event)["presented_id"] == banned.id);
  json evicted_event = EventWithReason(signing, "not attested");
  REQUIRE_MESSAGE(!evicted_event.is_null(), signing.dump(2));
  CHECK(evicted_event["actor"] == "unauthenticated");
  CHECK(Details(evicted_event)["presented_id"] == evicted.id);
  CHECK(AuditEvents(server, "x509_svid.issued").size() == 2);  // only the two before
  CheckChainVerifies(server);
}

TEST_CASE(
    "attack: CSRs for another agent's entry, another SPIFFE ID, a zone the node may not host") {
  TempDir dir;
  // The shipped zones, with training pinned to nodes this join-token agent is not.
  const std::string zones = dir.File("zones");
  std::filesystem::copy(spinel::testing::SourceDir() + "/trust-zones/zones", zones);
  std::string training = spinel::testing::ReadWholeFile(zones + "/training.yaml");
  const size_t at = training.find("\nnodes: []\n");
  REQUIRE(at != std::string::npos);
  training.replace(at, 11, "\nnodes: [x509pop:subject:ou:gpu-training]\n");
  dir.Write("zones/training.yaml", training);
  ServerProcess server(dir, zones);
  server.Start();
  AttackerAgentApi api(server);

  json token = Token(server);
  const std::string agent_id = token["agent_spiffe_id"];
  // Registered before the agent attests, when its node's selectors are not yet known.
  const std::string pinned = spinel::testing::Register(server, kTrainer, agent_id, 1000);
  AgentCredentials agent = AttestOk(api, token["token"]);
  const std::string own = spinel::testing::Register(server, kModel, agent.id, 1000);
  const std::string foreign =
      spinel::testing::Register(server, kRunner, Token(server)["agent_spiffe_id"], 1000);

  spinel::v1::SignedSvid result;
  REQUIRE(api.Sign(agent, own, kModel, &result).ok());
  CHECK_MESSAGE(result.error().empty(), result.error());
  CHECK(result.certificate_chain_size() > 0);

  struct Attack {
    const char* what;
    std::string entry;
    std::string csr_id;
    std::string reason;
  };
  for (const Attack& attack : {
           Attack{"another agent's entry", foreign, kRunner, "not authorized for agent"},
           Attack{"another SPIFFE ID", own, "spiffe://inference.ai.example.org/admin", "CSR names"},
           Attack{"a zone the node may not host", pinned, kTrainer, "not authorized for agent"},
       }) {
    INFO(attack.what);
    REQUIRE(api.Sign(agent, attack.entry, attack.csr_id, &result).ok());
    CHECK(result.certificate_chain_size() == 0);
    CHECK(result.error_code() == static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
    CHECK_MESSAGE(Contains(result.error(), attack.reason), result.error());
  }
  // Once the agent is known, such an entry cannot even be created.
  CommandResult refused_entry =
      server.Cli("entry create --spiffe-id spiffe://training.ai.example.org/other --parent-id " +
                 agent.id + " --selector unix:uid:1000");
  CHECK(refused_entry.exit_code != 0);
  CHECK_MESSAGE(Contains(refused_entry.err, "may not host zone"), refused_entry.Describe());

  json refused = AuditEvents(server, "x509_svid.refused");
  REQUIRE_MESSAGE(refused.size() == 3, refused.dump(2));
  for (const json& event : refused) CHECK(event["actor"] == agent.id);
  CHECK(Details(refused[0])["entry_id"] == foreign);
  CHECK(Details(refused[1])["entry_id"] == own);
  CHECK(refused[1]["subject"] == kModel);
  CHECK(Details(refused[1])["csr_uris"] == json{"spiffe://inference.ai.example.org/admin"});
  CHECK(Details(refused[2])["entry_id"] == pinned);
  CHECK(AuditEvents(server, "x509_svid.issued").size() == 1);
  CheckChainVerifies(server);
}
