// Attested agents, join tokens and health through the admin API (admin_service_impl.h).
#include "common/grpc_status.h"
#include "common/log.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/admin/admin_service_impl.h"
#include "server/api/agent/node_attestation.h"
#include "server/api/proto_convert.h"

namespace spinel::server {
namespace {

using common::StrCat;
using common::ToGrpcStatus;

// A join token whose agent ID ends in the operator's `agent_path` segment instead of a UUID.
// Same token format and storage as CreateJoinToken (node_attestation.h).
absl::StatusOr<CreatedJoinToken> CreateJoinTokenWithPath(AgentStore& agents,
                                                         const common::TrustDomain& control,
                                                         const std::string& agent_path,
                                                         common::Duration ttl,
                                                         common::TimePoint now) {
  if (std::optional<common::IdError> error = common::CheckPathSegment(agent_path)) {
    return absl::InvalidArgumentError(
        StrCat("agent_path: ", common::Quote(agent_path), ": ", common::IdErrorMessage(*error)));
  }
  if (ttl <= common::Duration::zero()) {
    return absl::InvalidArgumentError("join token TTL must be greater than zero");
  }
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId agent_id, AgentId(control, "join_token", agent_path));
  SPINEL_ASSIGN_OR_RETURN(std::string token, common::RandomHex(32));
  int64_t expires_at = common::ToUnixSeconds(now + ttl);
  SPINEL_RETURN_IF_ERROR(agents.CreateJoinToken(token, agent_id, expires_at).status());
  return CreatedJoinToken{token, agent_id, expires_at};
}

}  // namespace

grpc::Status AdminServiceImpl::ListAgents(grpc::ServerContext* /*context*/,
                                          const spinel::v1::Empty* /*request*/,
                                          spinel::v1::ListAgentsResponse* response) {
  absl::StatusOr<std::vector<AttestedAgent>> agents =
      deps_.agents.ListAttestedAgents(AgentFilter{});
  if (!agents.ok()) return ToGrpcStatus(agents.status());
  for (const AttestedAgent& agent : *agents) *response->add_agents() = AgentToProto(agent);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::GetAgent(grpc::ServerContext* /*context*/,
                                        const spinel::v1::AgentIdRequest* request,
                                        spinel::v1::Agent* response) {
  absl::StatusOr<common::SpiffeId> id = ParseIdField("spiffe_id", request->spiffe_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::StatusOr<AttestedAgent> agent = deps_.agents.GetAttestedAgent(*id);
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  *response = AgentToProto(*agent);
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::EvictAgent(grpc::ServerContext* /*context*/,
                                          const spinel::v1::AgentIdRequest* request,
                                          spinel::v1::Empty* /*response*/) {
  absl::StatusOr<common::SpiffeId> id = ParseIdField("spiffe_id", request->spiffe_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::Status deleted = deps_.agents.DeleteAttestedAgent(*id);
  if (!deleted.ok()) return ToGrpcStatus(deleted);
  // Woken by the change feed, the agent's sync stream re-reads its record, finds it gone and
  // ends.
  LOG_INFO("agent evicted", {{"agent_id", id->ToString()}});
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::BanAgent(grpc::ServerContext* /*context*/,
                                        const spinel::v1::AgentIdRequest* request,
                                        spinel::v1::Empty* /*response*/) {
  absl::StatusOr<common::SpiffeId> id = ParseIdField("spiffe_id", request->spiffe_id());
  if (!id.ok()) return ToGrpcStatus(id.status());
  absl::StatusOr<AttestedAgent> banned = deps_.agents.SetAgentBanned(*id, true);
  if (!banned.ok()) return ToGrpcStatus(banned.status());
  LOG_INFO("agent banned", {{"agent_id", id->ToString()}});
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::CreateJoinToken(grpc::ServerContext* /*context*/,
                                               const spinel::v1::CreateJoinTokenRequest* request,
                                               spinel::v1::CreateJoinTokenResponse* response) {
  if (request->ttl_seconds() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "ttl_seconds: must not be negative");
  }
  const common::Duration ttl = request->ttl_seconds() == 0
                                   ? common::Duration(deps_.settings.default_join_token_ttl)
                                   : common::Duration(std::chrono::seconds(request->ttl_seconds()));
  const common::TrustDomain& control = deps_.settings.control;
  absl::StatusOr<CreatedJoinToken> created =
      request->agent_path().empty()
          ? spinel::server::CreateJoinToken(deps_.agents, control, ttl, deps_.clock.Now())
          : CreateJoinTokenWithPath(deps_.agents, control, request->agent_path(), ttl,
                                    deps_.clock.Now());
  if (!created.ok()) return ToGrpcStatus(created.status());
  response->set_token(created->token);
  response->set_agent_spiffe_id(created->agent_id.ToString());
  response->set_expires_at(created->expires_at);
  // The token itself is never logged: it is shown once, to the caller.
  LOG_INFO("join token created", {{"agent_id", created->agent_id.ToString()},
                                  {"expires_at", std::to_string(created->expires_at)}});
  return grpc::Status::OK;
}

grpc::Status AdminServiceImpl::Health(grpc::ServerContext* /*context*/,
                                      const spinel::v1::Empty* /*request*/,
                                      spinel::v1::HealthResponse* response) {
  absl::StatusOr<int64_t> entries = deps_.entries.CountEntries(EntryFilter{});
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  absl::StatusOr<std::vector<AttestedAgent>> agents =
      deps_.agents.ListAttestedAgents(AgentFilter{});
  if (!agents.ok()) return ToGrpcStatus(agents.status());
  // Ready: the datastore answers and every trust domain has an active X.509 authority.
  bool ready = true;
  for (const common::TrustDomain& td : deps_.cas.TrustDomains()) {
    std::shared_ptr<const AuthoritySnapshot> snapshot = deps_.cas.Snapshot(td);
    if (snapshot == nullptr || !snapshot->x509_signer || !snapshot->jwt_signer) ready = false;
  }
  response->set_ready(ready);
  response->set_version(kSpinelServerVersion);
  response->set_entries(*entries);
  response->set_agents(static_cast<int64_t>(agents->size()));
  return grpc::Status::OK;
}

}  // namespace spinel::server
