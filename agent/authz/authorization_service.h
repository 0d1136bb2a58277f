// AuthorizationService: spinel.v1.Authorization (authorization.proto) as a gRPC callback
// service, served on the agent's Workload API socket beside the SPIFFE Workload API
// (WorkloadApiServerOptions::additional_services). The subject is proved by its SVID, so
// callers need neither peer credentials nor the Workload API security header.
//
// Authorize runs the Authorizer on the service's own WorkQueue: a step-up call is a server
// round trip, and gRPC's callback threads must not block. Errors map one to one to gRPC codes
// (INVALID_ARGUMENT, UNAUTHENTICATED, UNAVAILABLE); a decision, DENY included, is OK.
//
// Lifetime: destroy only after the gRPC server serving it has shut down (the destructor runs
// every queued call to completion, then joins the workers). The Authorizer must outlive it.
#pragma once

#include "agent/authz/authorizer.h"
#include "agent/workload_api/work_queue.h"
#include "authorization.grpc.pb.h"

namespace spinel::agent {

class AuthorizationService final : public spinel::v1::Authorization::CallbackService {
 public:
  explicit AuthorizationService(Authorizer& authorizer, size_t worker_threads = 4);
  ~AuthorizationService() override;

  grpc::ServerUnaryReactor* Authorize(grpc::CallbackServerContext* context,
                                      const spinel::v1::AuthorizeRequest* request,
                                      spinel::v1::AuthorizeResponse* response) override;

 private:
  Authorizer& authorizer_;
  WorkQueue workers_;
};

}  // namespace spinel::agent
