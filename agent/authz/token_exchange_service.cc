#include "agent/authz/token_exchange_service.h"

#include "common/grpc_status.h"

namespace spinel::agent {

TokenExchangeService::TokenExchangeService(DelegationExchanger& exchanger, size_t worker_threads)
    : exchanger_(exchanger), workers_(worker_threads) {}

TokenExchangeService::~TokenExchangeService() { workers_.Stop(); }

grpc::ServerUnaryReactor* TokenExchangeService::Exchange(
    grpc::CallbackServerContext* context, const spinel::v1::TokenExchangeRequest* request,
    spinel::v1::TokenExchangeResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  workers_.Post([this, reactor, request, response] {
    absl::StatusOr<spinel::v1::TokenExchangeResponse> result = exchanger_.Exchange(*request);
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(common::ToGrpcStatus(result.status()));
  });
  return reactor;
}

}  // namespace spinel::agent
