// WIMSE proofs on the agent socket end to end with the real spinel-server and spinel-agent
// (loopback, temp dirs). The workload (a registered uid) gets its WIT-SVID and key with
// `api fetch wit --write`; the test plays the receiver and forwards WIT + WPT headers:
//   1. Authorization/Authorize with a workload_proof subject: decided on the shipped zones
//      (inference/call-retrieval), the proof name audited; the same WPT again is ALREADY_EXISTS;
//      a WPT signed by another key than the WIT's cnf is INVALID_ARGUMENT;
//   2. Authorization/VerifyWorkloadProof: the caller, audited as workload_proof.verified /
//      workload_proof.refused (never with a token);
//   3. TokenExchange/Exchange (needs the server's ExchangeToken): the inference zone trusts a
//      test IdP (JWKS written here, user token signed here); `token exchange` exchanges the
//      user token for a delegation token to the tool runner; Authorize with that token bound
//      answers on behalf of alice; a second exchange is served from the agent's cache.
#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "agent/authz/delegation_exchanger.h"
#include "authorization.grpc.pb.h"
#include "common/jws.h"
#include "common/jwt_encode.h"
#include "common/private_jwk.h"
#include "common/workload_proof_request.h"
#include "common/wpt.h"
#include "tests/integration/agent_process_util.h"
#include "tests/integration/user_issuer_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::CommandResult;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

constexpr int kWorkloadUid = 4121;
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kTarget[] = "https://tools.ai.example.org/mcp";
constexpr const char* kIdp = spinel::testing::kUserIssuer;

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct Wit {
  std::string token;
  spinel::common::PrivateKey key;
};

// The workload's WIT-SVID and key, fetched by the workload's uid with `api fetch wit --write`.
Wit FetchWit(const TempDir& dir, AgentProcess& agent) {
  const std::string out = dir.File("wit");
  std::filesystem::create_directory(out);
  REQUIRE(::chown(out.c_str(), kWorkloadUid, kWorkloadUid) == 0);
  CommandResult fetched;
  REQUIRE_MESSAGE(spinel::testing::WaitFor(
                      [&] {
                        fetched =
                            agent.Api("api fetch wit --write " + ShellQuote(out), kWorkloadUid);
                        return fetched.exit_code == 0;
                      },
                      std::chrono::seconds(30)),
                  fetched.Describe() << agent.Log());
  auto key =
      spinel::common::PrivateKeyFromJwk(spinel::testing::ReadWholeFile(out + "/wit_svid_key.jwk"));
  REQUIRE(key.ok());
  return Wit{spinel::testing::ReadWholeFile(out + "/wit_svid.jwt"), std::move(*key)};
}

// A WPT for kTarget signed by `key`, not the WIT's cnf key (CreateWpt refuses to make one).
std::string ForgedWpt(const Wit& wit, const spinel::common::PrivateKey& key) {
  auto signer = spinel::common::JwsSigner::Create(key, spinel::common::JwsAlgorithm::kEs256);
  REQUIRE(signer.ok());
  auto header = spinel::common::EncodeJwtHeader(spinel::common::JwsAlgorithm::kEs256, "",
                                                spinel::common::kWptTyp);
  REQUIRE(header.ok());
  auto wth = spinel::common::OtherTokenHash(wit.token);  // b64u(SHA-256(WIT))
  REQUIRE(wth.ok());
  const int64_t now = spinel::common::ToUnixSeconds(std::chrono::system_clock::now());
  auto wpt = spinel::common::SignJwt(
      *signer, *header, {{"aud", kTarget}, {"exp", now + 30}, {"jti", "forged"}, {"wth", *wth}});
  REQUIRE(wpt.ok());
  return *wpt;
}

// The headers a receiver forwards: WIT, a fresh WPT (by the WIT's key, or `forger`'s) and the
// bearer token it binds.
spinel::v1::WorkloadProof Proof(const Wit& wit, const std::string& bearer = "",
                                const spinel::common::PrivateKey* forger = nullptr) {
  spinel::common::WptParams params;
  params.audience = kTarget;
  if (!bearer.empty()) params.tokens.access_token = bearer;
  auto wpt =
      spinel::common::CreateWpt(wit.token, wit.key, params, std::chrono::system_clock::now());
  REQUIRE(wpt.ok());
  spinel::v1::WorkloadProof proof;
  proof.set_target_uri(kTarget);
  auto add = [&](std::string_view name, const std::string& value) {
    auto* added = proof.add_headers();
    added->set_name(std::string(name));
    added->set_value(value);
  };
  add(spinel::common::kWorkloadIdentityTokenHeader, wit.token);
  add(spinel::common::kWorkloadProofTokenHeader,
      forger != nullptr ? ForgedWpt(wit, *forger) : *wpt);
  if (!bearer.empty()) add(spinel::common::kAuthorizationHeader, "Bearer " + bearer);
  return proof;
}

std::shared_ptr<grpc::Channel> AgentChannel(const AgentProcess& agent) {
  return grpc::CreateChannel("unix://" + agent.socket_path(), grpc::InsecureChannelCredentials());
}

grpc::Status Authorize(const AgentProcess& agent, const spinel::v1::WorkloadProof& proof,
                       const std::string& resource, const std::string& action,
                       spinel::v1::AuthorizeResponse* response) {
  spinel::v1::AuthorizeRequest request;
  *request.mutable_workload_proof() = proof;
  request.set_resource(resource);
  request.set_action(action);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return spinel::v1::Authorization::NewStub(AgentChannel(agent))
      ->Authorize(&context, request, response);
}

grpc::Status Verify(const AgentProcess& agent, const spinel::v1::WorkloadProof& proof,
                    spinel::v1::VerifyWorkloadProofResponse* response) {
  spinel::v1::VerifyWorkloadProofRequest request;
  *request.mutable_proof() = proof;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return spinel::v1::Authorization::NewStub(AgentChannel(agent))
      ->VerifyWorkloadProof(&context, request, response);
}

}  // namespace

TEST_CASE("workload proofs on the agent socket: Authorize and VerifyWorkloadProof") {
  TempDir dir;
  ServerProcess server(dir);
  auto [token, agent_id] = spinel::testing::StartServerForAgent(dir, server);
  spinel::testing::Register(server, kModel, agent_id, kWorkloadUid);
  AgentProcess agent(dir, server);
  agent.Start(token);
  const Wit wit = FetchWit(dir, agent);

  spinel::v1::AuthorizeResponse decided;
  const spinel::v1::WorkloadProof proof = Proof(wit);
  grpc::Status status = Authorize(agent, proof, "zone:retrieval", "call", &decided);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(decided.verdict() == spinel::v1::AuthorizeResponse::ALLOW);
  CHECK(decided.subject() == kModel);
  CHECK(decided.rule() == "inference/call-retrieval");
  CHECK(decided.user().empty());
  status = Authorize(agent, proof, "zone:retrieval", "call", &decided);
  CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);
  auto thief = spinel::common::PrivateKey::Generate();
  REQUIRE(thief.ok());
  status = Authorize(agent, Proof(wit, "", &*thief), "zone:retrieval", "call", &decided);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(Contains(status.error_message(), "WPT rejected: signature"));

  spinel::v1::VerifyWorkloadProofResponse verified;
  const spinel::v1::WorkloadProof second = Proof(wit);
  status = Verify(agent, second, &verified);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(verified.spiffe_id() == kModel);
  CHECK(verified.wit_expires_at() > 0);
  status = Verify(agent, second, &verified);
  CHECK(status.error_code() == grpc::StatusCode::ALREADY_EXISTS);

  CommandResult events;
  REQUIRE(spinel::testing::WaitFor(
      [&] {
        events = server.Cli("audit list --output json");
        return Contains(events.out, "workload_proof.refused") &&
               Contains(events.out, "wit-svid+wpt");
      },
      std::chrono::seconds(20)));
  CHECK(Contains(events.out, "workload_proof.verified"));
  CHECK_FALSE(Contains(events.out, wit.token));
  CHECK_FALSE(Contains(agent.Log(), wit.token));
}

TEST_CASE("token exchange on the agent socket: a user token for a delegation token, then used") {
  TempDir dir;
  const spinel::testing::TestUserIssuer idp;
  ServerProcess server(dir, idp.Zones(dir));
  auto [token, agent_id] = spinel::testing::StartServerForAgent(dir, server);
  spinel::testing::Register(server, kModel, agent_id, kWorkloadUid);
  AgentProcess agent(dir, server);
  agent.Start(token);
  FetchWit(dir, agent);  // waits until the workload is served
  const std::string user_file = dir.File("user.jwt");
  WriteFile(user_file, idp.Token("alice") + "\n");
  REQUIRE(::chown(user_file.c_str(), kWorkloadUid, kWorkloadUid) == 0);

  const std::string command = "token exchange --subject-token-file " + ShellQuote(user_file) +
                              " --audience " + kTarget + " --ttl 10m --output json";
  CommandResult exchanged = agent.Api(command, kWorkloadUid);
  REQUIRE_MESSAGE(exchanged.exit_code == 0, exchanged.Describe() << agent.Log());
  json out = json::parse(exchanged.out);
  CHECK(out["issued_token_type"] == "urn:ietf:params:oauth:token-type:jwt");
  CHECK(out["token_type"] == "N_A");
  CHECK(out["user"] == "alice");
  CHECK(out["user_issuer"] == kIdp);
  CHECK(out["actor_chain"] == json({kModel}));
  CHECK(out["expires_in"].get<int64_t>() > 500);
  const std::string delegation = out["access_token"];
  CommandResult again = agent.Api(command, kWorkloadUid);  // from the agent's cache
  REQUIRE_MESSAGE(again.exit_code == 0, again.Describe());
  CHECK(json::parse(again.out)["access_token"] == delegation);
  CommandResult table = agent.Api(
      "token exchange --subject-token-file " + ShellQuote(user_file) + " --audience " + kTarget,
      kWorkloadUid);
  CHECK(Contains(table.out, "alice"));
  CommandResult bad_ttl = agent.Api(command + " --ttl nope", kWorkloadUid);
  CHECK(bad_ttl.exit_code == 2);

  // The model-server presents the delegation token with its WIT-SVID: on behalf of alice.
  const Wit wit = FetchWit(dir, agent);
  spinel::v1::AuthorizeResponse decided;
  grpc::Status status =
      Authorize(agent, Proof(wit, delegation), "zone:retrieval", "call", &decided);
  // The agent keeps one WIT-SVID (and key) per entry until renewal: the one the CLI used.
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(decided.verdict() == spinel::v1::AuthorizeResponse::ALLOW);
  CHECK(decided.user() == "alice");
  CHECK(decided.user_issuer() == kIdp);
  CHECK(decided.actor_chain_size() == 1);
  spinel::v1::VerifyWorkloadProofResponse verified;
  status = Verify(agent, Proof(wit), &verified);
  CHECK(status.ok());
  CHECK_FALSE(Contains(agent.Log(), delegation));
}
