// Figure 7: Authorize decisions (authorization.proto), in-process and over a real agent socket.
//
// In-process: the agent's real Authorizer (agent/authz/authorizer.h) on a real IdentityCache
// filled the way the agent's sync fills it: one full SyncUpdate with the bundles and the zone
// policy document computed by the server's own AgentView from the shipped zones and real zone
// CAs (bench/support/authorizer_world.h). Subjects are real SVIDs minted by the server's Issuer:
// a JWT-SVID (audience spinel-authorize) and an X509-SVID chain of
// spiffe://inference.ai.example.org/model-server. Requests alternate between an ALLOW
// (read model weights) and a DENY (write them); each verdict is checked. Every decision is
// recorded with the real AuditForwarder, whose thread delivers batches to a reporter that
// acknowledges them in memory (no server in this half). The approval backend refuses and is
// never reached (no request needs step-up; the benchmark fails if it is called).
//   authorize_in_process_{p50,p99}_us (goal p99 < 50 us), authorize_in_process_per_s (one
//   thread, per CPU second), authorize_in_process_x509_{p50,p99}_us.
// Socket: a real spinel-server + spinel-agent (bench/support/agent_pair.h); the subject's
// JWT-SVID is fetched from the agent; spinel.v1.Authorization/Authorize over the agent's Unix
// socket, the same two requests alternating, sequential on one connection:
//   authorize_socket_{p50,p99}_us (goal p99 < 1000 us), and authorize_socket_per_s from 4
//   threads on one connection (the agent forwards every decision to the server's audit log).
#include <cstdio>

#include "agent/authz/authorizer.h"
#include "authorization.grpc.pb.h"
#include "bench/support/agent_pair.h"
#include "bench/support/authorizer_world.h"
#include "bench/support/issuer_world.h"
#include "bench/support/limits.h"
#include "bench/support/report.h"
#include "bench/support/timing.h"
#include "bench/support/workload_client.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::bench {
namespace {

using common::StrCat;
using spinel::v1::AuthorizeRequest;
using spinel::v1::AuthorizeResponse;

constexpr char kSubject[] = "spiffe://inference.ai.example.org/model-server";
constexpr char kWeights[] = "dataset:models/production/llama-3-70b/weights";

// Request i: even ALLOW (read), odd DENY (write); `subject` filled in by the caller.
AuthorizeRequest Request(size_t i, AuthorizeResponse::Verdict* expected) {
  AuthorizeRequest request;
  request.set_resource(kWeights);
  request.set_action(i % 2 == 0 ? "read" : "write");
  *expected = i % 2 == 0 ? AuthorizeResponse::ALLOW : AuthorizeResponse::DENY;
  return request;
}

absl::Status CheckVerdict(const AuthorizeResponse& response, AuthorizeResponse::Verdict expected) {
  if (response.verdict() == expected && response.subject() == kSubject) return absl::OkStatus();
  return absl::InternalError(StrCat("unexpected decision: ", response.ShortDebugString()));
}

// `calls` decisions on this thread with `subject` set by `fill`; latencies in `latencies`.
template <typename Fill>
absl::Status Decide(AuthorizerWorld& in, size_t calls, Fill fill, Samples& latencies) {
  for (size_t i = 0; i < calls; ++i) {
    AuthorizeResponse::Verdict expected;
    AuthorizeRequest request = Request(i, &expected);
    fill(request);
    const double start = WallSeconds();
    SPINEL_ASSIGN_OR_RETURN(AuthorizeResponse response, in.authorizer->Authorize(request));
    latencies.Add(Micros(start, WallSeconds()));
    SPINEL_RETURN_IF_ERROR(CheckVerdict(response, expected));
  }
  if (in.approvals.calls() != 0) return absl::InternalError("the approval backend was called");
  return absl::OkStatus();
}

absl::Status ReportInProcess(Report& report, const CommonFlags& flags) {
  SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<AuthorizerWorld> in, AuthorizerWorld::Create());
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId subject, common::SpiffeId::Parse(kSubject));
  SPINEL_ASSIGN_OR_RETURN(
      server::IssuedJwtSvid jwt,
      in->world->issuer().MintJwtSvid(subject, {"spinel-authorize"}, common::Duration::zero()));
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey public_key, key.Public());
  SPINEL_ASSIGN_OR_RETURN(
      server::IssuedX509Svid x509,
      in->world->issuer().SignX509Svid(subject, public_key, common::Duration::zero()));
  auto with_jwt = [&](AuthorizeRequest& request) { request.set_jwt_svid(jwt.token); };
  auto with_x509 = [&](AuthorizeRequest& request) {
    for (const std::string& der : x509.chain_der)
      request.mutable_x509_svid()->add_certificates(der);
  };
  const size_t calls = flags.Pick(200, 5000, 20000);
  Samples warm_up, latencies, x509_latencies;
  SPINEL_RETURN_IF_ERROR(Decide(*in, calls / 10, with_jwt, warm_up));
  const double cpu_start = ThreadCpuSeconds();
  SPINEL_RETURN_IF_ERROR(Decide(*in, calls, with_jwt, latencies));
  const double cpu_seconds = ThreadCpuSeconds() - cpu_start;
  SPINEL_RETURN_IF_ERROR(Decide(*in, calls / 4, with_x509, x509_latencies));
  nlohmann::json params = flags.SizeParam();
  params["calls"] = calls;
  params["subject"] = "jwt-svid";
  report.Add(
      {"authorize_in_process_p50_us", latencies.Percentile(50), "us", std::nullopt, "", params});
  report.Add({"authorize_in_process_p99_us", latencies.Percentile(99), "us", std::nullopt,
              "< 50 us", params});
  report.Add(
      {"authorize_in_process_per_s", calls / cpu_seconds, "decisions/s", std::nullopt, "", params});
  params["calls"] = calls / 4;
  params["subject"] = "x509-svid";
  report.Add({"authorize_in_process_x509_p50_us", x509_latencies.Percentile(50), "us", std::nullopt,
              "", params});
  report.Add({"authorize_in_process_x509_p99_us", x509_latencies.Percentile(99), "us", std::nullopt,
              "", params});
  return absl::OkStatus();
}

absl::Status AuthorizeOverSocket(spinel::v1::Authorization::Stub& stub, const std::string& jwt,
                                 size_t i) {
  AuthorizeResponse::Verdict expected;
  AuthorizeRequest request = Request(i, &expected);
  request.set_jwt_svid(jwt);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  AuthorizeResponse response;
  SPINEL_RETURN_IF_ERROR(FromGrpc(stub.Authorize(&context, request, &response)));
  return CheckVerdict(response, expected);
}

absl::Status ReportSocket(Report& report, const CommonFlags& flags) {
  SPINEL_ASSIGN_OR_RETURN(std::unique_ptr<AgentPair> pair, AgentPair::Start({kSubject}));
  std::shared_ptr<grpc::Channel> channel = FreshChannel(pair->agent().target());
  auto workload = SpiffeWorkloadAPI::NewStub(channel);
  SPINEL_ASSIGN_OR_RETURN(std::string jwt, FetchJwt(*workload, "spinel-authorize"));
  auto stub = spinel::v1::Authorization::NewStub(channel);
  const size_t calls = flags.Pick(100, 2000, 10000);
  for (size_t i = 0; i < calls / 10; ++i)
    SPINEL_RETURN_IF_ERROR(AuthorizeOverSocket(*stub, jwt, i));
  Samples latencies;
  for (size_t i = 0; i < calls; ++i) {
    const double start = WallSeconds();
    SPINEL_RETURN_IF_ERROR(AuthorizeOverSocket(*stub, jwt, i));
    latencies.Add(Micros(start, WallSeconds()));
  }
  nlohmann::json params = flags.SizeParam();
  params["calls"] = calls;
  report.Add({"authorize_socket_p50_us", latencies.Percentile(50), "us", std::nullopt, "", params});
  report.Add({"authorize_socket_p99_us", latencies.Percentile(99), "us", std::nullopt, "< 1000 us",
              params});

  constexpr int kThreads = 4;
  SPINEL_ASSIGN_OR_RETURN(ConcurrentCalls decided,
                          RunConcurrently(kThreads, flags.Pick(0.3, 2.0, 5.0), [&](size_t i) {
                            return AuthorizeOverSocket(*stub, jwt, i);
                          }));
  params["threads"] = kThreads;
  params["calls"] = decided.calls;
  report.Add(
      {"authorize_socket_per_s", decided.PerSecond(), "decisions/s", std::nullopt, "", params});
  return absl::OkStatus();
}

}  // namespace
}  // namespace spinel::bench

int main(int argc, char** argv) {
  CLI::App app{"Figure 7: Authorize decision latency in-process and over the agent socket"};
  spinel::bench::CommonFlags flags;
  if (std::optional<int> exit_code = spinel::bench::ParseFlags(app, flags, argc, argv)) {
    return *exit_code;
  }
  spinel::bench::Report report("authorize");
  absl::Status status = spinel::bench::ReportInProcess(report, flags);
  if (status.ok()) status = spinel::bench::ReportSocket(report, flags);
  if (!status.ok()) {
    std::fprintf(stderr, "authorize_bench: %s\n", status.ToString().c_str());
    return 1;
  }
  return 0;
}
