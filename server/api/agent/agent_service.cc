#include "server/api/agent/agent_service.h"

#include "common/csr.h"
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/agent/agent_auth.h"
#include "server/api/proto_convert.h"

namespace spinel::server {
namespace {

using common::StrCat;
using common::ToGrpcStatus;

constexpr int kMaxCsrsPerBatch = 1000;

std::string MethodOf(const spinel::v1::AttestParams& params) {
  if (params.has_join_token()) return "join_token";
  return params.has_x509pop() ? "x509pop" : "";
}

// Refusals are audited best effort: the caller is refused whether or not the event is stored.
void RecordRefusal(AuditLog& log, const AuditEvent& event) {
  if (absl::Status recorded = log.Record(event); !recorded.ok()) {
    LOG_WARN("could not audit a refusal",
             {{"kind", event.kind}, {"error", std::string(recorded.message())}});
  }
}

// The URI SAN of the certificate the peer presented, unverified ("" when none).
std::string PresentedId(const grpc::AuthContext& auth) {
  std::vector<common::Certificate> chain = PeerCertificates(auth);
  if (chain.empty()) return "";
  std::vector<std::string> uris = chain.front().UriSans();
  return uris.empty() ? "" : uris.front();
}

}  // namespace

AgentApiSettings AgentApiSettings::FromConfig(const ServerConfig& config) {
  return AgentApiSettings{.control = config.trust_domain,
                          .agent_svid_ttl = config.agent_svid_ttl,
                          .approval_ttl = config.approval_ttl,
                          .max_concurrent_signings = config.max_concurrent_signings,
                          .signings_per_agent_per_second = config.signings_per_agent_per_second};
}

AgentServiceImpl::AgentServiceImpl(const AgentApiDeps& deps,
                                   std::unique_ptr<X509PopAttestor> x509pop)
    : deps_(deps),
      auth_{deps.settings.control, deps.own_bundles, deps.agents, deps.clock},
      streams_{deps.hub, deps.view, deps.agents, deps.changes, deps.metrics},
      x509pop_(std::move(x509pop)),
      limiter_(deps.settings.max_concurrent_signings, deps.settings.signings_per_agent_per_second,
               deps.clock),
      audit_(deps.audit, deps.zones, deps.clock) {}

absl::StatusOr<NodeAttestation> AgentServiceImpl::RunAttestation(
    const spinel::v1::AttestParams& params,
    grpc::ServerReaderWriter<spinel::v1::AttestResponse, spinel::v1::AttestRequest>* stream) {
  if (params.has_join_token()) {
    return AttestJoinToken(deps_.agents, params.join_token().token());
  }
  if (!params.has_x509pop()) {
    return absl::InvalidArgumentError("attestation method is missing (join_token or x509pop)");
  }
  if (!x509pop_) return absl::FailedPreconditionError("x509pop attestation is not configured");
  std::vector<std::string> chain(params.x509pop().certificate_chain().begin(),
                                 params.x509pop().certificate_chain().end());
  SPINEL_ASSIGN_OR_RETURN(X509PopAttestor::Challenge challenge,
                          x509pop_->Begin(chain, deps_.clock.Now()));
  spinel::v1::AttestResponse challenge_message;
  challenge_message.set_challenge(challenge.nonce);
  spinel::v1::AttestRequest answer;
  if (!stream->Write(challenge_message) || !stream->Read(&answer) ||
      answer.step_case() != spinel::v1::AttestRequest::kChallengeResponse) {
    return absl::InvalidArgumentError("x509pop: expected a challenge response");
  }
  SPINEL_RETURN_IF_ERROR(X509PopAttestor::Finish(challenge, answer.challenge_response()));
  return challenge.attestation;
}

absl::Status AgentServiceImpl::IssueAgentSvid(const NodeAttestation& attestation,
                                              std::string_view csr_der, bool new_agent,
                                              spinel::v1::AgentSvid* svid) {
  SPINEL_ASSIGN_OR_RETURN(common::Csr csr, common::Csr::Parse(csr_der));
  SPINEL_ASSIGN_OR_RETURN(
      IssuedX509Svid issued,
      deps_.issuer.SignX509Svid(attestation.agent_id, csr, deps_.settings.agent_svid_ttl));
  SPINEL_ASSIGN_OR_RETURN(common::Certificate leaf,
                          common::Certificate::FromDer(issued.chain_der.front()));
  AttestedAgent record{.spiffe_id = attestation.agent_id,
                       .attestation_type = attestation.method,
                       .serial_number = leaf.SerialHex(),
                       .svid_expires_at = common::ToUnixSeconds(issued.expires_at),
                       .selectors = attestation.selectors};
  absl::Status stored = new_agent ? deps_.agents.CreateAttestedAgent(record).status()
                                  : deps_.agents.UpdateAttestedAgent(record).status();
  SPINEL_RETURN_IF_ERROR(stored);
  svid->set_spiffe_id(attestation.agent_id.ToString());
  for (const std::string& der : issued.chain_der) svid->add_certificate_chain(der);
  std::shared_ptr<const common::Bundle> control = deps_.own_bundles.Current(deps_.settings.control);
  if (!control) return absl::UnavailableError("control plane authority not ready");
  SPINEL_ASSIGN_OR_RETURN(*svid->mutable_control_bundle(), BundleToProto(*control));
  return absl::OkStatus();
}

grpc::Status AgentServiceImpl::Attest(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<spinel::v1::AttestResponse, spinel::v1::AttestRequest>* stream) {
  spinel::v1::AttestRequest first;
  if (!stream->Read(&first) || first.step_case() != spinel::v1::AttestRequest::kParams) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "the first attestation message must carry the parameters");
  }
  // A bad CSR is refused before attestation, so it does not use up a single-use join token.
  if (absl::Status csr = common::Csr::Parse(first.params().csr()).status(); !csr.ok()) {
    return ToGrpcStatus(csr);
  }
  absl::StatusOr<NodeAttestation> attestation = RunAttestation(first.params(), stream);
  if (!attestation.ok()) {
    LOG_WARN("node attestation refused",
             {{"peer", context->peer()}, {"reason", std::string(attestation.status().message())}});
    RecordRefusal(audit_, AttestationRefusedEvent(audit_, MethodOf(first.params()), "",
                                                  context->peer(), attestation.status()));
    return ToGrpcStatus(attestation.status());
  }
  absl::StatusOr<AttestedAgent> existing = deps_.agents.GetAttestedAgent(attestation->agent_id);
  if (existing.ok() && existing->banned) {
    absl::Status banned = absl::PermissionDeniedError(
        StrCat("agent ", attestation->agent_id.ToString(), " is banned"));
    RecordRefusal(
        audit_, AttestationRefusedEvent(audit_, attestation->method,
                                        attestation->agent_id.ToString(), context->peer(), banned));
    return ToGrpcStatus(banned);
  }
  spinel::v1::AttestResponse response;
  absl::Status issued =
      IssueAgentSvid(*attestation, first.params().csr(), !existing.ok(), response.mutable_result());
  if (!issued.ok()) return ToGrpcStatus(issued);
  LOG_INFO("agent attested",
           {{"agent_id", attestation->agent_id.ToString()}, {"method", attestation->method}});
  stream->Write(response);
  return grpc::Status::OK;
}

grpc::Status AgentServiceImpl::RenewAgentSvid(grpc::ServerContext* context,
                                              const spinel::v1::RenewAgentSvidRequest* request,
                                              spinel::v1::RenewAgentSvidResponse* response) {
  absl::StatusOr<AttestedAgent> agent = Authenticate(*context->auth_context());
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  NodeAttestation attestation{agent->spiffe_id, agent->attestation_type, agent->selectors};
  return ToGrpcStatus(
      IssueAgentSvid(attestation, request->csr(), /*new_agent=*/false, response->mutable_svid()));
}

grpc::ServerWriteReactor<spinel::v1::SyncUpdate>* AgentServiceImpl::Sync(
    grpc::CallbackServerContext* context, const spinel::v1::SyncRequest* /*request*/) {
  absl::StatusOr<AttestedAgent> agent = Authenticate(*context->auth_context());
  if (!agent.ok()) {
    class Refused : public grpc::ServerWriteReactor<spinel::v1::SyncUpdate> {
     public:
      explicit Refused(const grpc::Status& status) { Finish(status); }
      void OnDone() override { delete this; }
    };
    return new Refused(ToGrpcStatus(agent.status()));
  }
  auto* stream = new SyncStream(streams_, *agent);
  stream->Begin();
  return stream;
}

absl::StatusOr<RegistrationEntry> AgentServiceImpl::AuthorizedEntry(
    const AttestedAgent& agent, const std::vector<common::SpiffeId>& parents,
    const std::string& entry_id) {
  absl::StatusOr<RegistrationEntry> entry = deps_.entries.GetEntry(entry_id);
  if (absl::IsNotFound(entry.status())) {
    return absl::PermissionDeniedError(
        StrCat("entry ", common::Quote(entry_id), " is not authorized for this agent"));
  }
  if (!entry.ok()) return entry.status();
  if (!deps_.view.Authorizes(agent, parents, *entry)) {
    return absl::PermissionDeniedError(StrCat("entry ", common::Quote(entry_id),
                                              " is not authorized for agent ",
                                              agent.spiffe_id.ToString()));
  }
  return entry;
}

void AgentServiceImpl::SignOne(const AttestedAgent& agent,
                               const std::vector<common::SpiffeId>& parents,
                               const spinel::v1::CsrForEntry& request,
                               spinel::v1::SignedSvid* result, std::vector<AuditEvent>* audit) {
  result->set_entry_id(request.entry_id());
  RegistrationEntry entry;
  std::vector<std::string> csr_uris;
  absl::StatusOr<IssuedX509Svid> issued = [&]() -> absl::StatusOr<IssuedX509Svid> {
    SPINEL_ASSIGN_OR_RETURN(entry, AuthorizedEntry(agent, parents, request.entry_id()));
    SPINEL_ASSIGN_OR_RETURN(common::Csr csr, common::Csr::Parse(request.csr()));
    csr_uris = csr.uri_sans();
    for (const std::string& uri : csr.uri_sans()) {
      if (uri != entry.spiffe_id.ToString()) {
        return absl::PermissionDeniedError(StrCat("CSR names ", common::Quote(uri), " but entry ",
                                                  entry.id, " is ", entry.spiffe_id.ToString()));
      }
    }
    return deps_.issuer.SignX509Svid(entry.spiffe_id, csr,
                                     std::chrono::seconds(entry.x509_svid_ttl), entry.dns_names);
  }();
  if (!issued.ok()) {
    result->set_error(std::string(issued.status().message()));
    result->set_error_code(static_cast<int>(issued.status().code()));
    audit->push_back(X509RefusedEvent(audit_, agent.spiffe_id.ToString(),
                                      entry.spiffe_id.ToString(), issued.status(),
                                      {{"entry_id", request.entry_id()}, {"csr_uris", csr_uris}}));
    return;
  }
  for (const std::string& der : issued->chain_der) result->add_certificate_chain(der);
  result->set_expires_at(common::ToUnixSeconds(issued->expires_at));
  audit->push_back(X509IssuedEvent(audit_, agent, entry, *issued));
}

grpc::Status AgentServiceImpl::SignX509Svids(grpc::ServerContext* context,
                                             const spinel::v1::SignX509SvidsRequest* request,
                                             spinel::v1::SignX509SvidsResponse* response) {
  absl::StatusOr<AttestedAgent> agent = Authenticate(*context->auth_context());
  if (absl::IsPermissionDenied(agent.status())) {  // a certificate was presented and refused
    const std::string presented = PresentedId(*context->auth_context());
    RecordRefusal(audit_, X509RefusedEvent(audit_, kUnauthenticatedActor, presented, agent.status(),
                                           {{"presented_id", presented}}));
  }
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  if (request->csrs_size() > kMaxCsrsPerBatch) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        StrCat("at most ", kMaxCsrsPerBatch, " CSRs per batch"));
  }
  absl::Status admitted = limiter_.Admit(agent->spiffe_id.ToString(), request->csrs_size());
  if (!admitted.ok()) return ToGrpcStatus(admitted);
  SigningLimiter::Slot slot(limiter_);
  absl::StatusOr<std::vector<common::SpiffeId>> parents = deps_.view.ParentIdsOf(*agent);
  if (!parents.ok()) return ToGrpcStatus(parents.status());
  std::vector<AuditEvent> audit;
  for (const spinel::v1::CsrForEntry& csr : request->csrs()) {
    SignOne(*agent, *parents, csr, response->add_svids(), &audit);
  }
  // Audited before anything is handed out; unaudited SVIDs are not sent.
  if (absl::Status recorded = audit_.RecordAll(audit); !recorded.ok()) {
    response->Clear();
    return ToGrpcStatus(recorded);
  }
  return grpc::Status::OK;
}

grpc::Status AgentServiceImpl::MintJwtSvid(grpc::ServerContext* context,
                                           const spinel::v1::MintJwtSvidRequest* request,
                                           spinel::v1::MintJwtSvidResponse* response) {
  absl::StatusOr<AttestedAgent> agent = Authenticate(*context->auth_context());
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  absl::StatusOr<std::vector<common::SpiffeId>> parents = deps_.view.ParentIdsOf(*agent);
  if (!parents.ok()) return ToGrpcStatus(parents.status());
  absl::StatusOr<RegistrationEntry> entry = AuthorizedEntry(*agent, *parents, request->entry_id());
  if (!entry.ok()) return ToGrpcStatus(entry.status());
  std::vector<std::string> audience(request->audience().begin(), request->audience().end());
  absl::StatusOr<IssuedJwtSvid> issued = deps_.issuer.MintJwtSvid(
      entry->spiffe_id, audience, std::chrono::seconds(entry->jwt_svid_ttl));
  if (!issued.ok()) return ToGrpcStatus(issued.status());
  absl::Status recorded =
      audit_.Record(JwtIssuedEvent(audit_, agent->spiffe_id.ToString(), entry->spiffe_id, audience,
                                   issued->expires_at, entry->id));
  if (!recorded.ok()) return ToGrpcStatus(recorded);
  response->set_spiffe_id(entry->spiffe_id.ToString());
  response->set_token(issued->token);
  response->set_expires_at(common::ToUnixSeconds(issued->expires_at));
  return grpc::Status::OK;
}

}  // namespace spinel::server
