// WitSvidsService: spinel.v1.WitSvids (common/proto/wit_svids.proto) on the Workload API
// socket. A thin gRPC face: WorkloadService::MintWitSvidForKey does the work with the same
// security header check, peer lookup, attestation and workers as the SPIFFE Workload API.
// The WorkloadService must outlive it; registered by WorkloadApiServer.
#pragma once

#include "agent/workload_api/workload_service.h"
#include "wit_svids.grpc.pb.h"

namespace spinel::agent {

class WitSvidsService final : public spinel::v1::WitSvids::CallbackService {
 public:
  explicit WitSvidsService(WorkloadService& workload) : workload_(workload) {}

  grpc::ServerUnaryReactor* MintWitSvidForKey(
      grpc::CallbackServerContext* context, const spinel::v1::MintWitSvidForKeyRequest* request,
      spinel::v1::MintWitSvidForKeyResponse* response) override {
    return workload_.MintWitSvidForKey(context, request, response);
  }

 private:
  WorkloadService& workload_;
};

}  // namespace spinel::agent
