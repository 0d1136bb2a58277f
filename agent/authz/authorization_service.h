// AuthorizationService: spinel.v1.Authorization (authorization.proto) as a gRPC callback
// service, served on the agent's Workload API socket beside the SPIFFE Workload API
// (WorkloadApiServerOptions::additional_services). The subject is proved by its SVID, so
// callers need neither peer credentials nor the Workload API security header.
//
// Authorize runs the Authorizer on the service's own WorkQueue: a step-up call is a server
// round trip, and gRPC's callback threads must not block. Errors map one to one to gRPC codes
// (INVALID_ARGUMENT, UNAUTHENTICATED, UNAVAILABLE; ALREADY_EXISTS for a replayed WPT); a
// decision, DENY included, is OK. VerifyWorkloadProof runs the WorkloadProofVerifier on the
// same queue (it records an audit event).
//
// Lifetime: destroy only after the gRPC server serving it has shut down (the destructor runs
// every queued call to completion, then joins the workers). The Authorizer and the verifier
// must outlive it.
#pragma once

#include "agent/authz/authorizer.h"
#include "agent/authz/workload_proof_verifier.h"
#include "agent/workload_api/work_queue.h"
#include "authorization.grpc.pb.h"

namespace spinel::agent {

class AuthorizationService final : public spinel::v1::Authorization::CallbackService {
 public:
  AuthorizationService(Authorizer& authorizer, WorkloadProofVerifier& verifier,
                       size_t worker_threads = 4);
  ~AuthorizationService() override;

  grpc::ServerUnaryReactor* Authorize(grpc::CallbackServerContext* context,
                                      const spinel::v1::AuthorizeRequest* request,
                                      spinel::v1::AuthorizeResponse* response) override;
  grpc::ServerUnaryReactor* VerifyWorkloadProof(
      grpc::CallbackServerContext* context, const spinel::v1::VerifyWorkloadProofRequest* request,
      spinel::v1::VerifyWorkloadProofResponse* response) override;

 private:
  Authorizer& authorizer_;
  WorkloadProofVerifier& verifier_;
  WorkQueue workers_;
};

}  // namespace spinel::agent
