#include "agent/server_client.h"

#include "common/csr.h"
#include "common/grpc_status.h"
#include "common/pop_signature.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

constexpr auto kCallTimeout = std::chrono::seconds(15);
// Approval calls sit on a workload's Authorize call: fail (closed) sooner.
constexpr auto kApprovalTimeout = std::chrono::seconds(5);

void SetDeadline(grpc::ClientContext& context,
                 std::chrono::seconds timeout = std::chrono::seconds(kCallTimeout)) {
  context.set_deadline(std::chrono::system_clock::now() + timeout);
}

// Agent CSRs name the control trust domain only: the server decides the agent ID from the
// attestation and ignores the names in the request.
absl::StatusOr<std::string> CsrFor(const common::PrivateKey& key, const common::TrustDomain& td) {
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId id, common::SpiffeId::FromPath(td, ""));
  return common::CreateCsrDer(key, id, {});
}

}  // namespace

absl::StatusOr<AgentSvid> AgentSvidFromProto(const spinel::v1::AgentSvid& proto) {
  AgentSvid svid;
  SPINEL_ASSIGN_OR_RETURN(svid.id, common::SpiffeId::Parse(proto.spiffe_id()));
  for (const std::string& der : proto.certificate_chain()) {
    SPINEL_ASSIGN_OR_RETURN(common::Certificate cert, common::Certificate::FromDer(der));
    svid.chain.push_back(std::move(cert));
  }
  if (svid.chain.empty()) return absl::InvalidArgumentError("server sent an empty agent SVID");
  SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                          common::TrustDomain::Parse(proto.control_bundle().trust_domain()));
  SPINEL_ASSIGN_OR_RETURN(svid.control_bundle,
                          common::Bundle::Parse(td, proto.control_bundle().jwks()));
  return svid;
}

ServerClient::ServerClient(std::string address, std::shared_ptr<ControlTrust> trust,
                           const common::Clock& clock)
    : address_(std::move(address)), trust_(std::move(trust)), clock_(clock) {
  stub_ = spinel::v1::AgentService::NewStub(
      grpc::CreateChannel(address_, MakeAgentChannelCredentials(trust_, clock_, nullptr)));
}

std::shared_ptr<spinel::v1::AgentService::Stub> ServerClient::Stub() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stub_;
}

void ServerClient::SetIdentity(AgentIdentity identity) {
  grpc::ChannelArguments args;
  // A fresh subchannel pool, so the new client certificate is used for new connections.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(
      address_, MakeAgentChannelCredentials(trust_, clock_, &identity), args);
  std::lock_guard<std::mutex> lock(mutex_);
  stub_ = spinel::v1::AgentService::NewStub(channel);
}

absl::StatusOr<AgentSvid> ServerClient::Attest(const spinel::v1::AttestParams& params,
                                               const common::PrivateKey* node_key) {
  grpc::ClientContext context;
  SetDeadline(context);
  auto stream = Stub()->Attest(&context);
  spinel::v1::AttestRequest first;
  *first.mutable_params() = params;
  if (!stream->Write(first)) return common::FromGrpcStatus(stream->Finish());
  spinel::v1::AttestResponse response;
  while (stream->Read(&response)) {
    if (response.has_result()) {
      stream->WritesDone();
      absl::Status finished = common::FromGrpcStatus(stream->Finish());
      if (!finished.ok()) return finished;
      return AgentSvidFromProto(response.result());
    }
    if (node_key == nullptr) break;
    spinel::v1::AttestRequest answer;
    SPINEL_ASSIGN_OR_RETURN(std::string signature,
                            common::SignPossessionProof(*node_key, response.challenge()));
    answer.set_challenge_response(signature);
    if (!stream->Write(answer)) break;
  }
  absl::Status status = common::FromGrpcStatus(stream->Finish());
  if (status.ok()) return absl::InternalError("attestation ended without an agent SVID");
  return status;
}

absl::StatusOr<AgentSvid> ServerClient::AttestJoinToken(std::string_view token,
                                                        const common::PrivateKey& agent_key) {
  spinel::v1::AttestParams params;
  params.mutable_join_token()->set_token(std::string(token));
  SPINEL_ASSIGN_OR_RETURN(*params.mutable_csr(), CsrFor(agent_key, trust_->trust_domain()));
  return Attest(params, nullptr);
}

absl::StatusOr<AgentSvid> ServerClient::AttestX509Pop(const std::vector<std::string>& chain_der,
                                                      const common::PrivateKey& node_key,
                                                      const common::PrivateKey& agent_key) {
  spinel::v1::AttestParams params;
  for (const std::string& der : chain_der) params.mutable_x509pop()->add_certificate_chain(der);
  SPINEL_ASSIGN_OR_RETURN(*params.mutable_csr(), CsrFor(agent_key, trust_->trust_domain()));
  return Attest(params, &node_key);
}

absl::StatusOr<AgentSvid> ServerClient::RenewAgentSvid(const common::PrivateKey& new_key) {
  spinel::v1::RenewAgentSvidRequest request;
  SPINEL_ASSIGN_OR_RETURN(*request.mutable_csr(), CsrFor(new_key, trust_->trust_domain()));
  spinel::v1::RenewAgentSvidResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  SPINEL_RETURN_IF_ERROR(common::FromGrpcStatus(Stub()->RenewAgentSvid(&context, request, &response)));
  return AgentSvidFromProto(response.svid());
}

absl::StatusOr<std::vector<SignedSvid>> ServerClient::SignX509Svids(
    const std::vector<std::pair<std::string, std::string>>& csrs) {
  spinel::v1::SignX509SvidsRequest request;
  for (const auto& [entry_id, csr] : csrs) {
    auto* item = request.add_csrs();
    item->set_entry_id(entry_id);
    item->set_csr(csr);
  }
  spinel::v1::SignX509SvidsResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  SPINEL_RETURN_IF_ERROR(common::FromGrpcStatus(Stub()->SignX509Svids(&context, request, &response)));
  std::vector<SignedSvid> out;
  for (const spinel::v1::SignedSvid& svid : response.svids()) {
    SignedSvid signed_svid{svid.entry_id(), absl::OkStatus(), {}};
    if (!svid.error().empty()) {
      signed_svid.status = absl::Status(static_cast<absl::StatusCode>(svid.error_code()),
                                        svid.error());
    }
    for (const std::string& der : svid.certificate_chain()) {
      SPINEL_ASSIGN_OR_RETURN(common::Certificate cert, common::Certificate::FromDer(der));
      signed_svid.chain.push_back(std::move(cert));
    }
    out.push_back(std::move(signed_svid));
  }
  return out;
}

absl::StatusOr<spinel::v1::MintJwtSvidResponse> ServerClient::MintJwtSvid(
    const std::string& entry_id, const std::vector<std::string>& audience) {
  spinel::v1::MintJwtSvidRequest request;
  request.set_entry_id(entry_id);
  for (const std::string& aud : audience) request.add_audience(aud);
  spinel::v1::MintJwtSvidResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  SPINEL_RETURN_IF_ERROR(common::FromGrpcStatus(Stub()->MintJwtSvid(&context, request, &response)));
  return response;
}

absl::StatusOr<spinel::v1::Approval> ServerClient::CreateApproval(
    const spinel::v1::AccessRequest& request) {
  spinel::v1::CreateApprovalRequest call;
  *call.mutable_request() = request;
  spinel::v1::Approval response;
  grpc::ClientContext context;
  SetDeadline(context, kApprovalTimeout);
  SPINEL_RETURN_IF_ERROR(common::FromGrpcStatus(Stub()->CreateApproval(&context, call, &response)));
  return response;
}

absl::StatusOr<spinel::v1::Approval> ServerClient::UseApproval(
    const std::string& approval_id, const spinel::v1::AccessRequest& request) {
  spinel::v1::UseApprovalRequest call;
  call.set_approval_id(approval_id);
  *call.mutable_request() = request;
  spinel::v1::Approval response;
  grpc::ClientContext context;
  SetDeadline(context, kApprovalTimeout);
  SPINEL_RETURN_IF_ERROR(common::FromGrpcStatus(Stub()->UseApproval(&context, call, &response)));
  return response;
}

absl::StatusOr<uint64_t> ServerClient::ReportAuditEvents(
    const spinel::v1::ReportAuditEventsRequest& request) {
  spinel::v1::ReportAuditEventsResponse response;
  grpc::ClientContext context;
  SetDeadline(context);
  SPINEL_RETURN_IF_ERROR(
      common::FromGrpcStatus(Stub()->ReportAuditEvents(&context, request, &response)));
  return response.stored();
}

absl::Status ServerClient::Sync(
    grpc::ClientContext* context,
    const std::function<void(const spinel::v1::SyncUpdate&)>& on_update) {
  auto reader = Stub()->Sync(context, spinel::v1::SyncRequest());
  spinel::v1::SyncUpdate update;
  while (reader->Read(&update)) on_update(update);
  return common::FromGrpcStatus(reader->Finish());
}

}  // namespace spinel::agent
