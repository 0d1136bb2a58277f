// Issue 15's figures: proof of possession and token exchange (docs/agentic.md).
//
// In-process: the agent's real Authorizer (bench/support/authorizer_world.h) deciding a tool
// call whose subject is a WIMSE workload proof: the model server's WIT-SVID (minted by the
// server's Issuer for a fresh P-256 key), a new Workload Proof Token per call (ath binding a
// delegation token for user alice, signed by the inference zone's JWT key via
// Issuer::SignDelegationToken) and the delegation token as the Authorization bearer. The agent
// verifies the WIT-SVID, the WPT (signature, aud, wth, ath, exp, jti into the replay cache),
// the delegation token (zone key, audience, presenter) and decides on the shipped zones'
// mcp-search-docs rule (on_behalf_of any, via inference/*): every verdict must be ALLOW.
// Making the WPT is the caller's cost and is not timed.
//   wpt_authorize_in_process_{p50,p99}_us (goal p99 < 100 us).
// Socket: a real spinel-server + spinel-agent whose inference zone trusts a user issuer made
// here (its JWK Set replaces the shipped placeholder). The model server's WIT-SVID comes from
// FetchWITSVID; spinel.v1.TokenExchange/Exchange of alice's token over the agent's socket, a
// new WPT per call (not timed), sequential on one connection:
//   exchange_socket_cached_{p50,p99}_us: the same subject token and audience every time, so the
//   agent answers from its cache of fresh tokens (goal p99 < 1000 us);
//   exchange_socket_signed_{p50,p99}_us: a new audience every time, so the server validates and
//   signs each one and audits it (goal p99 < 5000 us).
#include <cstdio>
#include <filesystem>

#include "authorization.grpc.pb.h"
#include "bench/support/agent_pair.h"
#include "bench/support/authorizer_world.h"
#include "bench/support/limits.h"
#include "bench/support/report.h"
#include "bench/support/timing.h"
#include "bench/support/workload_client.h"
#include "common/delegation_token.h"
#include "common/jwk.h"
#include "common/jws.h"
#include "common/jwt_encode.h"
#include "common/private_jwk.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/workload_proof_request.h"
#include "common/wpt.h"

namespace spinel::bench {
namespace {

using common::StrCat;
using spinel::v1::AuthorizeResponse;

constexpr char kModelServer[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kToolRunner[] = "spiffe://tools.ai.example.org/tool-runner";
constexpr char kTarget[] = "https://127.0.0.1:8443/mcp";
constexpr char kUserIssuer[] = "https://users.demo.spinel.example";  // the shipped inference zone's
constexpr char kExchangeTarget[] = "urn:spinel:agent:token-exchange";

common::TimePoint Now() { return common::SystemClock::Get().Now(); }

// One call's proof: WIT-SVID, a new WPT binding `bearer`, and the bearer itself.
absl::StatusOr<spinel::v1::WorkloadProof> Proof(const std::string& wit,
                                                const common::PrivateKey& key,
                                                const std::string& bearer) {
  common::WptParams params;
  params.audience = kTarget;
  params.tokens.access_token = bearer;
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::HttpHeader> headers,
                          common::WorkloadProofHeaders(wit, key, params, Now()));
  spinel::v1::WorkloadProof proof;
  proof.set_target_uri(kTarget);
  headers.push_back({std::string(common::kAuthorizationHeader), "Bearer " + bearer});
  for (const common::HttpHeader& header : headers) {
    spinel::v1::HttpHeader* out = proof.add_headers();
    out->set_name(header.name);
    out->set_value(header.value);
  }
  return proof;
}

// alice's delegation token for the model server (bound to `key`), audience the tool runner.
absl::StatusOr<std::string> AliceDelegation(server::Issuer& issuer, const common::SpiffeId& actor,
                                            const common::PrivateKey& key) {
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey public_key, key.Public());
  const common::TimePoint now = common::FromUnixSeconds(common::ToUnixSeconds(Now()));
  common::DelegationClaims claims{{kUserIssuer, "alice@example.org", {{"groups", {"sre"}}}},
                                  {actor},
                                  kToolRunner,
                                  now,
                                  now + std::chrono::minutes(10),
                                  {std::move(public_key), common::JwsAlgorithm::kEs256}};
  SPINEL_ASSIGN_OR_RETURN(server::IssuedDelegationToken token, issuer.SignDelegationToken(claims));
  return token.token;
}

absl::Status ReportInProcess(Report& report, const CommonFlags& flags) {
  SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<AuthorizerWorld> in, AuthorizerWorld::Create());
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId subject, common::SpiffeId::Parse(kModelServer));
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey public_key, key.Public());
  SPINEL_ASSIGN_OR_RETURN(
      server::IssuedWitSvid wit,
      in->world->issuer().MintWitSvid(subject, {public_key, common::JwsAlgorithm::kEs256},
                                      common::Duration::zero()));
  SPINEL_ASSIGN_OR_RETURN(std::string delegation,
                          AliceDelegation(in->world->issuer(), subject, key));
  const size_t calls = flags.Pick(200, 3000, 10000);
  Samples latencies;
  for (size_t i = 0; i < calls + calls / 10; ++i) {
    spinel::v1::AuthorizeRequest request;
    SPINEL_ASSIGN_OR_RETURN(*request.mutable_workload_proof(), Proof(wit.token, key, delegation));
    request.set_audience(kToolRunner);
    request.set_resource("tool:tool-runner/search_docs");
    request.set_action("invoke");
    const double start = WallSeconds();
    SPINEL_ASSIGN_OR_RETURN(AuthorizeResponse response, in->authorizer->Authorize(request));
    if (i >= calls / 10) latencies.Add(Micros(start, WallSeconds()));  // after the warm-up
    if (response.verdict() != AuthorizeResponse::ALLOW || response.user() != "alice@example.org") {
      return absl::InternalError(StrCat("unexpected decision: ", response.ShortDebugString()));
    }
  }
  nlohmann::json params = flags.SizeParam();
  params["calls"] = calls;
  params["subject"] = "wit-svid+wpt+delegation";
  report.Add({"wpt_authorize_in_process_p50_us", latencies.Percentile(50), "us", std::nullopt, "",
              params});
  report.Add({"wpt_authorize_in_process_p99_us", latencies.Percentile(99), "us", std::nullopt,
              "< 100 us", params});
  return absl::OkStatus();
}

// The shipped zones with a user issuer of ours in place of the placeholder JWK Set.
struct UserIssuer {
  TempDir zones;
  common::PrivateKey key;

  static absl::StatusOr<std::unique_ptr<UserIssuer>> Create() {
    SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
    auto issuer = std::unique_ptr<UserIssuer>(new UserIssuer(std::move(key)));
    std::filesystem::copy(SourceDir() + "/trust-zones/zones", issuer->zones.path(),
                          std::filesystem::copy_options::recursive);
    SPINEL_ASSIGN_OR_RETURN(common::PublicKey public_key, issuer->key.Public());
    SPINEL_ASSIGN_OR_RETURN(nlohmann::json jwk, common::PublicKeyToJwk(public_key));
    jwk["kid"] = "bench";
    jwk["alg"] = "ES256";
    const std::string jwks = nlohmann::json{{"keys", nlohmann::json::array({jwk})}}.dump();
    std::filesystem::remove(issuer->zones.File("demo-users.jwks.json"));
    SPINEL_RETURN_IF_ERROR(issuer->zones.Write("demo-users.jwks.json", jwks).status());
    return issuer;
  }

  absl::StatusOr<std::string> Token(const std::string& user) const {
    const int64_t now = common::ToUnixSeconds(Now());
    nlohmann::json claims = {{"iss", kUserIssuer}, {"sub", user},       {"aud", "spinel-inference"},
                             {"iat", now},         {"exp", now + 3600}, {"groups", {"sre"}}};
    SPINEL_ASSIGN_OR_RETURN(common::JwsSigner signer,
                            common::JwsSigner::Create(key, common::JwsAlgorithm::kEs256));
    SPINEL_ASSIGN_OR_RETURN(std::string header,
                            common::EncodeJwtHeader(common::JwsAlgorithm::kEs256, "bench", "JWT"));
    return common::SignJwt(signer, header, claims);
  }

 private:
  explicit UserIssuer(common::PrivateKey k) : key(std::move(k)) {}
};

struct Exchanger {
  spinel::v1::TokenExchange::Stub& stub;
  WITSVID wit;
  common::PrivateKey key;
  std::string subject_token;

  absl::Status Exchange(const std::string& audience, Samples& latencies) {
    spinel::v1::TokenExchangeRequest request;
    common::WptParams params;
    params.audience = kExchangeTarget;
    params.tokens.access_token = subject_token;
    SPINEL_ASSIGN_OR_RETURN(std::string wpt, common::CreateWpt(wit.wit_svid(), key, params, Now()));
    request.set_wit_svid(wit.wit_svid());
    request.set_wpt(wpt);
    request.set_subject_token(subject_token);
    request.set_subject_token_type(std::string(common::kTokenTypeJwt));
    request.set_audience(audience);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    spinel::v1::TokenExchangeResponse response;
    const double start = WallSeconds();
    grpc::Status status = stub.Exchange(&context, request, &response);
    latencies.Add(Micros(start, WallSeconds()));
    SPINEL_RETURN_IF_ERROR(FromGrpc(status));
    if (response.user() != "alice@example.org") return absl::InternalError("not alice's token");
    return absl::OkStatus();
  }
};

absl::Status ReportSocket(Report& report, const CommonFlags& flags) {
  SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<UserIssuer> issuer, UserIssuer::Create());
  ServerOptions options;
  options.zones_dir = issuer->zones.path();
  SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<AgentPair> pair,
                          AgentPair::Start({kModelServer}, "", options));
  std::shared_ptr<grpc::Channel> channel = FreshChannel(pair->agent().target());
  auto workload = SpiffeWorkloadAPI::NewStub(channel);
  SPINEL_ASSIGN_OR_RETURN(WITSVID wit, FirstWitSvid(*workload));
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKeyFromJwk(wit.wit_svid_key()));
  SPINEL_ASSIGN_OR_RETURN(std::string alice, issuer->Token("alice@example.org"));
  auto stub = spinel::v1::TokenExchange::NewStub(channel);
  Exchanger exchanger{*stub, wit, std::move(key), alice};
  const size_t calls = flags.Pick(50, 500, 2000);
  Samples warm_up, cached, signed_each;
  for (size_t i = 0; i < calls / 10; ++i) {
    SPINEL_RETURN_IF_ERROR(exchanger.Exchange(kToolRunner, warm_up));
  }
  for (size_t i = 0; i < calls; ++i)
    SPINEL_RETURN_IF_ERROR(exchanger.Exchange(kToolRunner, cached));
  for (size_t i = 0; i < calls; ++i) {
    SPINEL_RETURN_IF_ERROR(
        exchanger.Exchange(StrCat("https://tool-", i, ".example.org/mcp"), signed_each));
  }
  nlohmann::json params = flags.SizeParam();
  params["calls"] = calls;
  report.Add(
      {"exchange_socket_cached_p50_us", cached.Percentile(50), "us", std::nullopt, "", params});
  report.Add({"exchange_socket_cached_p99_us", cached.Percentile(99), "us", std::nullopt,
              "< 1000 us", params});
  report.Add({"exchange_socket_signed_p50_us", signed_each.Percentile(50), "us", std::nullopt, "",
              params});
  report.Add({"exchange_socket_signed_p99_us", signed_each.Percentile(99), "us", std::nullopt,
              "< 5000 us", params});
  return absl::OkStatus();
}

}  // namespace
}  // namespace spinel::bench

int main(int argc, char** argv) {
  CLI::App app{"Issue 15: WPT + Authorize in-process, token exchange over the agent socket"};
  spinel::bench::CommonFlags flags;
  if (std::optional<int> exit_code = spinel::bench::ParseFlags(app, flags, argc, argv)) {
    return *exit_code;
  }
  spinel::bench::Report report("wimse");
  absl::Status status = spinel::bench::ReportInProcess(report, flags);
  if (status.ok()) status = spinel::bench::ReportSocket(report, flags);
  if (!status.ok()) {
    std::fprintf(stderr, "wimse_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
