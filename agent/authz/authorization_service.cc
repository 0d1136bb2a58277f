#include "agent/authz/authorization_service.h"

#include "common/grpc_status.h"

namespace spinel::agent {

AuthorizationService::AuthorizationService(Authorizer& authorizer, WorkloadProofVerifier& verifier,
                                           size_t worker_threads)
    : authorizer_(authorizer), verifier_(verifier), workers_(worker_threads) {}

AuthorizationService::~AuthorizationService() { workers_.Stop(); }

grpc::ServerUnaryReactor* AuthorizationService::Authorize(
    grpc::CallbackServerContext* context, const spinel::v1::AuthorizeRequest* request,
    spinel::v1::AuthorizeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  workers_.Post([this, reactor, request, response] {
    absl::StatusOr<spinel::v1::AuthorizeResponse> result = authorizer_.Authorize(*request);
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(common::ToGrpcStatus(result.status()));
  });
  return reactor;
}

grpc::ServerUnaryReactor* AuthorizationService::VerifyWorkloadProof(
    grpc::CallbackServerContext* context, const spinel::v1::VerifyWorkloadProofRequest* request,
    spinel::v1::VerifyWorkloadProofResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  workers_.Post([this, reactor, request, response] {
    absl::StatusOr<spinel::v1::VerifyWorkloadProofResponse> result = verifier_.Verify(*request);
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(common::ToGrpcStatus(result.status()));
  });
  return reactor;
}

}  // namespace spinel::agent
