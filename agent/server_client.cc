#include "agent/server_client.h"

#include <algorithm>

#include "common/csr.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/pop_signature.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

// Keepalive pings on the connection to the server: within 15 s of a replica hanging, the
// sync stream fails (server/server.cc accepts pings every 5 s).
constexpr std::chrono::milliseconds kKeepaliveTime(10'000);
constexpr std::chrono::milliseconds kKeepaliveTimeout(5'000);
// Approval calls sit on a workload's Authorize call: fail (closed) sooner.
constexpr auto kApprovalTimeout = std::chrono::seconds(5);

void SetDeadline(grpc::ClientContext& context, std::chrono::seconds timeout = kDefaultCallTimeout) {
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

ServerClient::ServerClient(std::vector<std::string> addresses, std::shared_ptr<ControlTrust> trust,
                           const common::Clock& clock,
                           std::chrono::milliseconds max_reconnect_backoff)
    : addresses_(std::move(addresses)),
      trust_(std::move(trust)),
      clock_(clock),
      max_reconnect_backoff_(max_reconnect_backoff) {
  common::MutexLock lock(mutex_);
  RebuildLocked();
}

void ServerClient::RebuildLocked() {
  grpc::ChannelArguments args;
  // A fresh subchannel pool, so a new client certificate is used for new connections.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  const int cap = static_cast<int>(std::max<int64_t>(max_reconnect_backoff_.count(), 100));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, cap);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, std::min(cap, 1000));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, std::min(cap, 1000));
  // A replica that hangs with its connections open (stopped, wedged, a dead host behind a
  // live link) fails the sync stream UNAVAILABLE once a ping goes unanswered, so the client
  // moves on (Observe) instead of waiting on a stream that never ends.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(kKeepaliveTime.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(kKeepaliveTimeout.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  const AgentIdentity* identity = identity_ ? &*identity_ : nullptr;
  auto channel =
      grpc::CreateCustomChannel(addresses_[index_ % addresses_.size()],
                                MakeAgentChannelCredentials(trust_, clock_, identity), args);
  stub_ = spinel::v1::AgentService::NewStub(channel);
  ++generation_;
}

ServerClient::Channel ServerClient::Current() {
  common::MutexLock lock(mutex_);
  return Channel{stub_, generation_};
}

std::string ServerClient::current_address() const {
  common::MutexLock lock(mutex_);
  return addresses_[index_ % addresses_.size()];
}

uint64_t ServerClient::failovers() const {
  common::MutexLock lock(mutex_);
  return failovers_;
}

absl::Status ServerClient::Observe(absl::Status status, uint64_t generation, bool unary) {
  const bool down = absl::IsUnavailable(status) || (unary && absl::IsDeadlineExceeded(status));
  if (!down || addresses_.size() < 2) return status;
  std::string from;
  std::string to;
  {
    common::MutexLock lock(mutex_);
    if (generation != generation_) return status;  // someone already moved on
    from = addresses_[index_ % addresses_.size()];
    index_ = (index_ + 1) % addresses_.size();
    ++failovers_;
    RebuildLocked();
    to = addresses_[index_];
  }
  LOG_WARN("server replica unreachable; switching to the next one",
           {{"from", from}, {"to", to}, {"error", std::string(status.message())}});
  return status;
}

void ServerClient::SetIdentity(AgentIdentity identity) {
  common::MutexLock lock(mutex_);
  identity_ = std::move(identity);
  RebuildLocked();
}

absl::StatusOr<AgentSvid> ServerClient::Attest(const spinel::v1::AttestParams& params,
                                               const common::PrivateKey* node_key) {
  // Each replica once: an unreachable one moves the client on (Observe) before the next try.
  absl::StatusOr<AgentSvid> result = absl::UnavailableError("no server address");
  for (size_t attempt = 0; attempt < addresses_.size(); ++attempt) {
    result = AttestOnce(params, node_key);
    if (!absl::IsUnavailable(result.status())) break;
  }
  return result;
}

absl::StatusOr<AgentSvid> ServerClient::AttestOnce(const spinel::v1::AttestParams& params,
                                                   const common::PrivateKey* node_key) {
  grpc::ClientContext context;
  SetDeadline(context);
  const Channel channel = Current();
  auto stream = channel.stub->Attest(&context);
  auto finish = [&] {
    return Observe(common::FromGrpcStatus(stream->Finish()), channel.generation, true);
  };
  spinel::v1::AttestRequest first;
  *first.mutable_params() = params;
  if (!stream->Write(first)) return finish();
  spinel::v1::AttestResponse response;
  while (stream->Read(&response)) {
    if (response.has_result()) {
      stream->WritesDone();
      absl::Status finished = finish();
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
  absl::Status status = finish();
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

template <typename Request, typename Response>
absl::Status ServerClient::Call(grpc::Status (spinel::v1::AgentService::Stub::*method)(
                                    grpc::ClientContext*, const Request&, Response*),
                                const Request& request, Response* response,
                                std::chrono::seconds timeout) {
  grpc::ClientContext context;
  SetDeadline(context, timeout);
  const Channel channel = Current();
  return Observe(common::FromGrpcStatus(((*channel.stub).*method)(&context, request, response)),
                 channel.generation, true);
}

absl::StatusOr<AgentSvid> ServerClient::RenewAgentSvid(const common::PrivateKey& new_key) {
  spinel::v1::RenewAgentSvidRequest request;
  SPINEL_ASSIGN_OR_RETURN(*request.mutable_csr(), CsrFor(new_key, trust_->trust_domain()));
  spinel::v1::RenewAgentSvidResponse response;
  SPINEL_RETURN_IF_ERROR(Call(&spinel::v1::AgentService::Stub::RenewAgentSvid, request, &response));
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
  SPINEL_RETURN_IF_ERROR(Call(&spinel::v1::AgentService::Stub::SignX509Svids, request, &response));
  std::vector<SignedSvid> out;
  for (const spinel::v1::SignedSvid& svid : response.svids()) {
    SignedSvid signed_svid{svid.entry_id(), absl::OkStatus(), {}};
    if (!svid.error().empty()) {
      signed_svid.status =
          absl::Status(static_cast<absl::StatusCode>(svid.error_code()), svid.error());
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
  SPINEL_RETURN_IF_ERROR(Call(&spinel::v1::AgentService::Stub::MintJwtSvid, request, &response));
  return response;
}

absl::StatusOr<std::vector<MintedWit>> ServerClient::MintWitSvids(
    const std::vector<WitKeyRequest>& keys) {
  spinel::v1::MintWitSvidsRequest request;
  for (const WitKeyRequest& key : keys) {
    spinel::v1::WitKeyForEntry* proto = request.add_keys();
    proto->set_entry_id(key.entry_id);
    proto->set_public_jwk(key.public_jwk);
  }
  spinel::v1::MintWitSvidsResponse response;
  SPINEL_RETURN_IF_ERROR(Call(&spinel::v1::AgentService::Stub::MintWitSvids, request, &response));
  std::vector<MintedWit> minted;
  for (const spinel::v1::MintedWitSvid& svid : response.svids()) {
    MintedWit out{svid.entry_id(), absl::OkStatus(), svid.wit_svid(),
                  common::FromUnixSeconds(svid.expires_at())};
    if (!svid.error().empty() || svid.wit_svid().empty()) {
      out.status = absl::Status(static_cast<absl::StatusCode>(svid.error_code()), svid.error());
      if (out.status.ok()) out.status = absl::InternalError("server sent no WIT-SVID");
    }
    minted.push_back(std::move(out));
  }
  return minted;
}

absl::StatusOr<spinel::v1::Approval> ServerClient::CreateApproval(
    const spinel::v1::AccessRequest& request) {
  spinel::v1::CreateApprovalRequest call;
  *call.mutable_request() = request;
  spinel::v1::Approval response;
  SPINEL_RETURN_IF_ERROR(
      Call(&spinel::v1::AgentService::Stub::CreateApproval, call, &response, kApprovalTimeout));
  return response;
}

absl::StatusOr<spinel::v1::Approval> ServerClient::UseApproval(
    const std::string& approval_id, const spinel::v1::AccessRequest& request) {
  spinel::v1::UseApprovalRequest call;
  call.set_approval_id(approval_id);
  *call.mutable_request() = request;
  spinel::v1::Approval response;
  SPINEL_RETURN_IF_ERROR(
      Call(&spinel::v1::AgentService::Stub::UseApproval, call, &response, kApprovalTimeout));
  return response;
}

absl::StatusOr<uint64_t> ServerClient::ReportAuditEvents(
    const spinel::v1::ReportAuditEventsRequest& request) {
  spinel::v1::ReportAuditEventsResponse response;
  SPINEL_RETURN_IF_ERROR(
      Call(&spinel::v1::AgentService::Stub::ReportAuditEvents, request, &response));
  return response.stored();
}

absl::StatusOr<spinel::v1::ExchangeTokenResponse> ServerClient::ExchangeToken(
    const spinel::v1::ExchangeTokenRequest& request) {
  spinel::v1::ExchangeTokenResponse response;
  SPINEL_RETURN_IF_ERROR(Call(&spinel::v1::AgentService::Stub::ExchangeToken, request, &response));
  return response;
}

absl::Status ServerClient::Sync(
    grpc::ClientContext* context,
    const std::function<void(const spinel::v1::SyncUpdate&)>& on_update) {
  const Channel channel = Current();
  auto reader = channel.stub->Sync(context, spinel::v1::SyncRequest());
  spinel::v1::SyncUpdate update;
  while (reader->Read(&update)) on_update(update);
  return Observe(common::FromGrpcStatus(reader->Finish()), channel.generation, false);
}

}  // namespace spinel::agent
