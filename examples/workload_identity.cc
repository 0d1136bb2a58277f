#include "examples/workload_identity.h"

#include <cstdlib>
#include <map>
#include <thread>

#include "common/grpc_status.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::examples {
namespace {

using common::StrCat;

absl::Status AddBundle(const std::string& td_text, const std::string& der,
                       WorkloadIdentity& identity) {
  SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td, common::TrustDomain::Parse(td_text));
  auto certs = common::Certificate::ParseDerChain(der);
  if (!certs.ok()) {
    return absl::InvalidArgumentError(
        StrCat("bundle of ", td.name(), " does not parse: ", certs.status().message()));
  }
  identity.authorities.Set(td, std::move(*certs));
  identity.trust_domains.push_back(td.name());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::shared_ptr<const WorkloadIdentity>> ParseX509Response(
    const ::X509SVIDResponse& response) {
  if (response.svids_size() == 0) {
    return absl::InvalidArgumentError("the Workload API response carries no X509-SVID");
  }
  const ::X509SVID& first = response.svids(0);
  SPINEL_ASSIGN_OR_RETURN(common::X509Svid svid,
                          common::ParseOwnX509Svid(first.x509_svid(), first.x509_svid_key()));
  auto identity = std::make_shared<WorkloadIdentity>(WorkloadIdentity{std::move(svid), {}, {}});
  SPINEL_RETURN_IF_ERROR(
      AddBundle(identity->svid.id.trust_domain().name(), first.bundle(), *identity));
  // Federated bundles in trust-domain order (a protobuf map has none), for stable output.
  std::map<std::string, std::string> federated(response.federated_bundles().begin(),
                                               response.federated_bundles().end());
  for (const auto& [td, der] : federated) SPINEL_RETURN_IF_ERROR(AddBundle(td, der, *identity));
  return std::shared_ptr<const WorkloadIdentity>(std::move(identity));
}

absl::StatusOr<std::string> SocketFromEnvironment() {
  const char* env = std::getenv("SPIFFE_ENDPOINT_SOCKET");
  if (env == nullptr || *env == '\0') {
    return absl::InvalidArgumentError(
        "SPIFFE_ENDPOINT_SOCKET is not set (expected unix:///path/to/workload.sock)");
  }
  std::string value = env;
  if (value.rfind("unix://", 0) == 0) return value.substr(7);
  if (value.rfind("unix:", 0) == 0) return value.substr(5);
  return absl::InvalidArgumentError(
      StrCat("SPIFFE_ENDPOINT_SOCKET=", common::Quote(value), " is not a unix: address"));
}

std::string DescribeRpcStatus(const grpc::Status& status) {
  return std::string(common::FromGrpcStatus(status).ToString());
}

WorkloadApiClient::WorkloadApiClient(const std::string& socket_path)
    : channel_(grpc::CreateChannel("unix://" + socket_path, grpc::InsecureChannelCredentials())),
      stub_(::SpiffeWorkloadAPI::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> WorkloadApiClient::NewContext(
    std::chrono::milliseconds deadline) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("workload.spiffe.io", "true");
  if (deadline.count() > 0) context->set_deadline(std::chrono::system_clock::now() + deadline);
  return context;
}

absl::StatusOr<std::shared_ptr<const WorkloadIdentity>> WorkloadApiClient::FetchX509(
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  grpc::Status last;
  do {
    auto context = NewContext(std::chrono::seconds(5));
    auto reader = stub_->FetchX509SVID(context.get(), ::X509SVIDRequest());
    ::X509SVIDResponse response;
    if (reader->Read(&response)) {
      context->TryCancel();
      return ParseX509Response(response);
    }
    last = reader->Finish();
    if (last.error_code() != grpc::StatusCode::PERMISSION_DENIED &&
        last.error_code() != grpc::StatusCode::UNAVAILABLE) {
      return common::FromGrpcStatus(last);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  return absl::DeadlineExceededError(
      StrCat("no X509-SVID from the Workload API in time; last answer: ", DescribeRpcStatus(last)));
}

absl::Status WorkloadApiClient::WatchX509(
    const std::function<void(std::shared_ptr<const WorkloadIdentity>)>& on_update) {
  auto context = NewContext(std::chrono::milliseconds(0));
  {
    common::MutexLock lock(mu_);
    if (cancelled_) return absl::OkStatus();
    watching_ = context.get();
  }
  auto reader = stub_->FetchX509SVID(context.get(), ::X509SVIDRequest());
  ::X509SVIDResponse response;
  absl::Status parse_error;
  while (parse_error.ok() && reader->Read(&response)) {
    auto identity = ParseX509Response(response);
    if (identity.ok())
      on_update(*identity);
    else
      parse_error = identity.status();
  }
  if (!parse_error.ok()) context->TryCancel();
  grpc::Status status = reader->Finish();
  common::MutexLock lock(mu_);
  watching_ = nullptr;
  if (!parse_error.ok()) return parse_error;
  if (cancelled_) return absl::OkStatus();
  return status.ok() ? absl::UnavailableError("the Workload API ended the X.509 stream")
                     : common::FromGrpcStatus(status);
}

void WorkloadApiClient::Cancel() {
  common::MutexLock lock(mu_);
  cancelled_ = true;
  if (watching_ != nullptr) watching_->TryCancel();
}

absl::StatusOr<std::string> WorkloadApiClient::FetchJwt(const std::string& audience) {
  auto context = NewContext(std::chrono::seconds(10));
  ::JWTSVIDRequest request;
  request.add_audience(audience);
  ::JWTSVIDResponse response;
  grpc::Status status = stub_->FetchJWTSVID(context.get(), request, &response);
  if (!status.ok()) return common::FromGrpcStatus(status);
  if (response.svids_size() == 0) {
    return absl::InvalidArgumentError("the Workload API returned no JWT-SVID");
  }
  return response.svids(0).svid();
}

}  // namespace spinel::examples
