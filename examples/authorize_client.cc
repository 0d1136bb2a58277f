#include "examples/authorize_client.h"

#include "common/grpc_status.h"
#include "examples/workload_identity.h"

namespace spinel::examples {
namespace {

constexpr auto kDeadline = std::chrono::seconds(10);

void FillProof(const std::string& target_uri, const std::vector<common::HttpHeader>& headers,
               spinel::v1::WorkloadProof* proof) {
  proof->set_target_uri(target_uri);
  for (const common::HttpHeader& header : headers) {
    spinel::v1::HttpHeader* out = proof->add_headers();
    out->set_name(header.name);
    out->set_value(header.value);
  }
}

}  // namespace

AuthorizeClient::AuthorizeClient(std::shared_ptr<grpc::Channel> workload_socket)
    : stub_(spinel::v1::Authorization::NewStub(std::move(workload_socket))) {}

absl::StatusOr<spinel::v1::AuthorizeResponse> AuthorizeClient::Authorize(
    const ProofAuthorizeRequest& request) {
  spinel::v1::AuthorizeRequest call;
  FillProof(request.target_uri, request.headers, call.mutable_workload_proof());
  call.set_audience(request.audience);
  call.set_resource(request.resource);
  call.set_action(request.action);
  for (const auto& [key, value] : request.context) (*call.mutable_context())[key] = value;
  call.set_approval_id(request.approval_id);
  auto context = WorkloadApiClient::NewContext(kDeadline);
  spinel::v1::AuthorizeResponse response;
  grpc::Status status = stub_->Authorize(context.get(), call, &response);
  if (!status.ok()) return common::FromGrpcStatus(status);
  return response;
}

absl::StatusOr<spinel::v1::VerifyWorkloadProofResponse> AuthorizeClient::Verify(
    const std::string& target_uri, const std::vector<common::HttpHeader>& headers,
    const std::string& audience) {
  spinel::v1::VerifyWorkloadProofRequest call;
  FillProof(target_uri, headers, call.mutable_proof());
  call.set_audience(audience);
  auto context = WorkloadApiClient::NewContext(kDeadline);
  spinel::v1::VerifyWorkloadProofResponse response;
  grpc::Status status = stub_->VerifyWorkloadProof(context.get(), call, &response);
  if (!status.ok()) return common::FromGrpcStatus(status);
  return response;
}

}  // namespace spinel::examples
