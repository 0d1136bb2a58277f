// TokenExchangeService: spinel.v1.TokenExchange (authorization.proto) as a gRPC callback
// service on the agent's Workload API socket (WorkloadApiServerOptions::additional_services).
// Callers need no Workload API security header: the WIT-SVID + WPT proof authenticates them.
//
// Exchange runs the DelegationExchanger on the service's own WorkQueue: it may be a server
// round trip, and gRPC's callback threads must not block. Errors map one to one to gRPC codes
// (INVALID_ARGUMENT, ALREADY_EXISTS, PERMISSION_DENIED, UNAVAILABLE, and the server's).
//
// Lifetime: destroy only after the gRPC server serving it has shut down (the destructor runs
// every queued call to completion, then joins the workers). The exchanger must outlive it.
#pragma once

#include "agent/authz/delegation_exchanger.h"
#include "agent/workload_api/work_queue.h"
#include "authorization.grpc.pb.h"

namespace spinel::agent {

class TokenExchangeService final : public spinel::v1::TokenExchange::CallbackService {
 public:
  explicit TokenExchangeService(DelegationExchanger& exchanger, size_t worker_threads = 2);
  ~TokenExchangeService() override;

  grpc::ServerUnaryReactor* Exchange(grpc::CallbackServerContext* context,
                                     const spinel::v1::TokenExchangeRequest* request,
                                     spinel::v1::TokenExchangeResponse* response) override;

 private:
  DelegationExchanger& exchanger_;
  WorkQueue workers_;
};

}  // namespace spinel::agent
