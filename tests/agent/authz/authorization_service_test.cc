// AuthorizationService served beside the Workload API on one real Unix socket
// (WorkloadApiServer additional_services): decisions and error codes over real gRPC, and both
// services answering on the same socket.
#include "agent/authz/authorization_service.h"

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>

#include "agent/workload_api/workload_api_server.h"
#include "tests/agent/authz/authz_fakes.h"
#include "tests/agent/authz/authz_world.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_jwt_minter.h"
#include "workload.grpc.pb.h"

namespace spinel::agent {
namespace {

using spinel::testing::AuthzWorld;
using V = v1::AuthorizeResponse;

struct SocketHarness {
  SocketHarness() {
    WorkloadApiServerOptions options;
    options.socket.path = dir.File("agent.sock");
    options.additional_services.push_back(&service);
    auto attestor = [](const ProcessInfo& peer) -> absl::StatusOr<common::SelectorSet> {
      return common::SelectorSet{{"unix", "uid:" + std::to_string(peer.uid)}};
    };
    auto started = WorkloadApiServer::Start(options, world.cache, minter, attestor, world.clock);
    REQUIRE_MESSAGE(started.ok(), started.status().ToString());
    server = std::move(*started);
  }
  ~SocketHarness() { server->Stop(); }

  std::shared_ptr<grpc::Channel> Channel() const {
    return grpc::CreateChannel("unix://" + server->socket_path(),
                               grpc::InsecureChannelCredentials());
  }
  grpc::Status Call(const v1::AuthorizeRequest& request, V* response) const {
    auto stub = v1::Authorization::NewStub(Channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return stub->Authorize(&context, request, response);
  }

  spinel::testing::TempDir dir;
  AuthzWorld world;
  spinel::testing::TestJwtMinter minter{world.clock};
  spinel::testing::ApprovalLedger approvals{world.clock};
  spinel::testing::AuditInbox inbox;
  AuditForwarder audit{inbox, world.clock};
  common::WptReplayCache replay_cache;
  Authorizer authorizer{world.cache, approvals, audit, world.clock, &replay_cache};
  WorkloadProofVerifier verifier{world.cache, replay_cache, audit, world.clock};
  AuthorizationService service{authorizer, verifier};
  std::unique_ptr<WorkloadApiServer> server;  // last: stopped first
};

TEST_CASE("authorization service: decisions over the agent socket, no security header needed") {
  SocketHarness h;
  V response;
  grpc::Status status =
      h.Call(AuthzWorld::Request(h.world.Jwt(AuthzWorld::kInference, "/model-server"),
                                 "zone:retrieval", "call"),
             &response);
  REQUIRE_MESSAGE(status.ok(), status.error_message());
  CHECK(response.verdict() == V::ALLOW);
  CHECK(response.rule() == "inference/call-retrieval");
  CHECK(response.zone() == "inference");

  status = h.Call(AuthzWorld::Request(h.world.Jwt(AuthzWorld::kTools, "/runner"), "tool:deploy.api",
                                      "invoke", {{"environment", "production"}}),
                  &response);
  REQUIRE(status.ok());
  CHECK(response.verdict() == V::APPROVAL_REQUIRED);
  CHECK(!response.approval_id().empty());
  CHECK(h.approvals.creates() == 1);
}

TEST_CASE("authorization service: refusals are gRPC errors with the contract's codes") {
  SocketHarness h;
  V response;
  v1::AuthorizeRequest no_subject;
  no_subject.set_resource("tool:x");
  no_subject.set_action("invoke");
  CHECK(h.Call(no_subject, &response).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  grpc::Status unauthenticated = h.Call(
      AuthzWorld::Request(h.world.Jwt(AuthzWorld::kOther, "/x"), "tool:x", "invoke"), &response);
  CHECK(unauthenticated.error_code() == grpc::StatusCode::UNAUTHENTICATED);
  CHECK(unauthenticated.error_message().find("JWT-SVID not accepted") != std::string::npos);
  REQUIRE(h.audit.Flush().ok());
  CHECK(h.inbox.events().size() == 2);
}

TEST_CASE("authorization service: the Workload API still answers on the same socket") {
  SocketHarness h;
  auto workload = ::SpiffeWorkloadAPI::NewStub(h.Channel());
  grpc::ClientContext context;
  context.AddMetadata("workload.spiffe.io", "true");
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ::JWTSVIDRequest request;
  request.add_audience("spinel-authorize");
  ::JWTSVIDResponse response;
  // The caller has no entry: the Workload API itself answers (PERMISSION_DENIED).
  grpc::Status status = workload->FetchJWTSVID(&context, request, &response);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace spinel::agent
