// PostgresDatastore: attested agents and join tokens.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/postgres_datastore.h"
#include "server/datastore/records.h"

namespace spinel::server {
namespace {

using common::StrCat;

}  // namespace

// --- Attested agents ----------------------------------------------------------------------

absl::StatusOr<AttestedAgent> PostgresDatastore::GetAgentOn(PgConnection& conn,
                                                            const common::SpiffeId& id) {
  SPINEL_ASSIGN_OR_RETURN(
      PgRows rows,
      conn.Query(StrCat("SELECT ", kAgentColumns, " FROM attested_agents WHERE spiffe_id = $1"),
                 PgParams().Text(id.ToString())));
  if (rows.empty()) return AgentNotFound(id);
  return ReadAgent(rows[0]);
}

absl::StatusOr<AttestedAgent> PostgresDatastore::CreateAttestedAgent(const AttestedAgent& in) {
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, NormalizeAgent(in));
  agent.banned = false;
  agent.created_at = agent.updated_at = NowSeconds();
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  absl::Status status = w->Query(StrCat("INSERT INTO attested_agents (", kAgentColumns,
                                        ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
                                 PgParams()
                                     .Text(agent.spiffe_id.ToString())
                                     .Text(agent.attestation_type)
                                     .Text(agent.serial_number)
                                     .Int(agent.svid_expires_at)
                                     .Text(EncodeSelectors(agent.selectors))
                                     .Bool(false)
                                     .Int(agent.created_at)
                                     .Int(agent.updated_at))
                            .status();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(StrCat(AgentName(agent.spiffe_id), " already exists"));
  }
  SPINEL_RETURN_IF_ERROR(status);
  SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kAgent, agent.spiffe_id.ToString(), false));
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return agent;
}

absl::StatusOr<AttestedAgent> PostgresDatastore::UpdateAttestedAgent(const AttestedAgent& in) {
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, NormalizeAgent(in));
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent stored, GetAgentOn(*w, agent.spiffe_id));
  agent.banned = stored.banned;
  agent.created_at = stored.created_at;
  agent.updated_at = NowSeconds();
  SPINEL_RETURN_IF_ERROR(
      w->Query("UPDATE attested_agents SET attestation_type = $2, serial_number = $3, "
               "svid_expires_at = $4, selectors = $5, updated_at = $6 WHERE spiffe_id = $1",
               PgParams()
                   .Text(agent.spiffe_id.ToString())
                   .Text(agent.attestation_type)
                   .Text(agent.serial_number)
                   .Int(agent.svid_expires_at)
                   .Text(EncodeSelectors(agent.selectors))
                   .Int(agent.updated_at))
          .status());
  SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kAgent, agent.spiffe_id.ToString(), false));
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return agent;
}

absl::StatusOr<AttestedAgent> PostgresDatastore::GetAttestedAgent(const common::SpiffeId& id) {
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  return GetAgentOn(*conn, id);
}

absl::StatusOr<std::vector<AttestedAgent>> PostgresDatastore::ListAttestedAgents(
    const AgentFilter& filter) {
  PgConditions where;
  if (filter.attestation_type) where.AddText("attestation_type = ", *filter.attestation_type);
  if (filter.banned) where.AddText("banned = ", *filter.banned ? "true" : "false");
  SPINEL_ASSIGN_OR_RETURN(PgPool::Lease conn, pool_.Acquire());
  SPINEL_ASSIGN_OR_RETURN(PgRows rows,
                          conn->Query(StrCat("SELECT ", kAgentColumns, " FROM attested_agents",
                                             where.Sql(), " ORDER BY spiffe_id"),
                                      where.Params()));
  std::vector<AttestedAgent> out;
  for (int i = 0; i < rows.size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, ReadAgent(rows[i]));
    out.push_back(std::move(agent));
  }
  return out;
}

absl::Status PostgresDatastore::DeleteAttestedAgent(const common::SpiffeId& id) {
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(PgRows rows, w->Query("DELETE FROM attested_agents WHERE spiffe_id = $1",
                                                PgParams().Text(id.ToString())));
  if (rows.affected() == 0) return AgentNotFound(id);
  SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kAgent, id.ToString(), true));
  return w.Commit();
}

absl::StatusOr<AttestedAgent> PostgresDatastore::SetAgentBanned(const common::SpiffeId& id,
                                                                bool banned) {
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, GetAgentOn(*w, id));
  agent.banned = banned;
  agent.updated_at = NowSeconds();
  SPINEL_RETURN_IF_ERROR(
      w->Query("UPDATE attested_agents SET banned = $2, updated_at = $3 WHERE spiffe_id = $1",
               PgParams().Text(id.ToString()).Bool(banned).Int(agent.updated_at))
          .status());
  SPINEL_RETURN_IF_ERROR(RecordChange(*w, ChangeKind::kAgent, id.ToString(), false));
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return agent;
}

// --- Join tokens --------------------------------------------------------------------------

absl::StatusOr<JoinToken> PostgresDatastore::GetJoinTokenOn(PgConnection& conn,
                                                            const std::string& hash) {
  SPINEL_ASSIGN_OR_RETURN(PgRows rows, conn.Query(StrCat("SELECT ", kJoinTokenColumns,
                                                         " FROM join_tokens WHERE token_hash = $1"),
                                                  PgParams().Text(hash)));
  if (rows.empty()) return absl::NotFoundError("join token not found");
  return ReadJoinToken(rows[0]);
}

absl::StatusOr<JoinToken> PostgresDatastore::CreateJoinToken(std::string_view token,
                                                             const common::SpiffeId& agent_id,
                                                             int64_t expires_at) {
  if (token.empty()) return absl::InvalidArgumentError("join token: the token is empty");
  if (agent_id.empty()) return absl::InvalidArgumentError("join token: agent_id is required");
  JoinToken out{JoinTokenHash(token), agent_id, expires_at, std::nullopt, NowSeconds()};
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  absl::Status status = w->Query(StrCat("INSERT INTO join_tokens (", kJoinTokenColumns,
                                        ") VALUES ($1, $2, $3, NULL, $4)"),
                                 PgParams()
                                     .Text(out.token_hash)
                                     .Text(agent_id.ToString())
                                     .Int(expires_at)
                                     .Int(out.created_at))
                            .status();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(StrCat(JoinTokenName(out), ": this token is already stored"));
  }
  SPINEL_RETURN_IF_ERROR(status);
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return out;
}

absl::StatusOr<JoinToken> PostgresDatastore::ConsumeJoinToken(std::string_view token) {
  const std::string hash = JoinTokenHash(token);
  const int64_t now = NowSeconds();
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  // One conditional UPDATE: only an unused, unexpired token changes.
  SPINEL_ASSIGN_OR_RETURN(
      PgRows rows, w->Query(StrCat("UPDATE join_tokens SET used_at = $2 WHERE token_hash = $1 "
                                   "AND used_at IS NULL AND expires_at > $2 RETURNING ",
                                   kJoinTokenColumns),
                            PgParams().Text(hash).Int(now)));
  if (!rows.empty()) {
    SPINEL_ASSIGN_OR_RETURN(JoinToken consumed, ReadJoinToken(rows[0]));
    SPINEL_RETURN_IF_ERROR(w.Commit());
    return consumed;
  }
  // Nothing changed: say why (the transaction rolls back, there is nothing to undo).
  SPINEL_ASSIGN_OR_RETURN(JoinToken stored, GetJoinTokenOn(*w, hash));
  if (stored.used_at) {
    return absl::FailedPreconditionError(
        StrCat(JoinTokenName(stored), " was already used (at ", *stored.used_at, ")"));
  }
  return absl::FailedPreconditionError(
      StrCat(JoinTokenName(stored), " expired at ", stored.expires_at));
}

absl::StatusOr<int64_t> PostgresDatastore::PruneJoinTokens(int64_t expired_before) {
  SPINEL_ASSIGN_OR_RETURN(WriteTxn w, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(PgRows rows, w->Query("DELETE FROM join_tokens WHERE expires_at < $1",
                                                PgParams().Int(expired_before)));
  SPINEL_RETURN_IF_ERROR(w.Commit());
  return rows.affected();
}

}  // namespace spinel::server
