// MintWitSvids (contract in agent_service.h and common/proto/agent.proto): WIT-SVIDs for the
// caller's entries, authorized exactly like SignX509Svids (AgentView, per entry), limited by
// the same signing limiter, every issuance and refusal audited before anything is sent.
#include "common/grpc_status.h"
#include "common/json_util.h"
#include "common/private_jwk.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/agent/agent_service.h"

namespace spinel::server {
namespace {

constexpr int kMaxWitKeysPerBatch = 1000;

}  // namespace

void AgentServiceImpl::MintWitOne(const AttestedAgent& agent,
                                  const std::vector<common::SpiffeId>& parents,
                                  const spinel::v1::WitKeyForEntry& request,
                                  spinel::v1::MintedWitSvid* result,
                                  std::vector<AuditEvent>* audit) {
  result->set_entry_id(request.entry_id());
  RegistrationEntry entry;
  std::string thumbprint;
  absl::StatusOr<IssuedWitSvid> issued = [&]() -> absl::StatusOr<IssuedWitSvid> {
    SPINEL_ASSIGN_OR_RETURN(entry, AuthorizedEntry(agent, parents, request.entry_id()));
    SPINEL_ASSIGN_OR_RETURN(common::ConfirmationKey key,
                            common::ParseConfirmationJwkText(request.public_jwk(), "public_jwk"));
    SPINEL_ASSIGN_OR_RETURN(thumbprint, common::JwkThumbprint(key.key));
    // The zone's wit_svid_ttl default, capped (entries carry no WIT lifetime of their own).
    return deps_.issuer.MintWitSvid(entry.spiffe_id, key, common::Duration::zero());
  }();
  const std::string agent_id = agent.spiffe_id.ToString();
  if (!issued.ok()) {
    result->set_error(std::string(issued.status().message()));
    result->set_error_code(static_cast<int>(issued.status().code()));
    const std::string subject = entry.id.empty() ? "" : entry.spiffe_id.ToString();
    audit->push_back(
        WitRefusedEvent(audit_, agent_id, subject, issued.status(), request.entry_id()));
    return;
  }
  result->set_spiffe_id(entry.spiffe_id.ToString());
  result->set_wit_svid(issued->token);
  result->set_expires_at(common::ToUnixSeconds(issued->expires_at));
  audit->push_back(WitIssuedEvent(audit_, agent_id, entry, *issued, thumbprint));
}

grpc::Status AgentServiceImpl::MintWitSvids(grpc::ServerContext* context,
                                            const spinel::v1::MintWitSvidsRequest* request,
                                            spinel::v1::MintWitSvidsResponse* response) {
  absl::StatusOr<AttestedAgent> agent = Authenticate(*context->auth_context());
  if (!agent.ok()) return common::ToGrpcStatus(agent.status());
  if (request->keys_size() > kMaxWitKeysPerBatch) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        common::StrCat("at most ", kMaxWitKeysPerBatch, " keys per batch"));
  }
  absl::Status admitted = limiter_.Admit(agent->spiffe_id.ToString(), request->keys_size());
  if (!admitted.ok()) return common::ToGrpcStatus(admitted);
  SigningLimiter::Slot slot(limiter_);
  absl::StatusOr<std::vector<common::SpiffeId>> parents = deps_.view.ParentIdsOf(*agent);
  if (!parents.ok()) return common::ToGrpcStatus(parents.status());
  std::vector<AuditEvent> audit;
  for (const spinel::v1::WitKeyForEntry& key : request->keys()) {
    MintWitOne(*agent, *parents, key, response->add_svids(), &audit);
  }
  // Audited before anything is handed out; unaudited WIT-SVIDs are not sent.
  if (absl::Status recorded = audit_.RecordAll(audit); !recorded.ok()) {
    response->Clear();
    return common::ToGrpcStatus(recorded);
  }
  return grpc::Status::OK;
}

}  // namespace spinel::server
