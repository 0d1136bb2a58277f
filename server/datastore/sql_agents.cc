// SqlStore: attested agents and join tokens.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"
#include "server/datastore/sql_store.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

constexpr char kAgentColumns[] =
    "spiffe_id, attestation_type, serial_number, svid_expires_at, selectors, banned, "
    "created_at, updated_at";
constexpr char kJoinTokenColumns[] = "token_hash, agent_id, expires_at, used_at, created_at";

// `agent "spiffe://..."`
std::string AgentName(const common::SpiffeId& id) { return StrCat("agent ", Quote(id.ToString())); }

absl::Status AgentNotFound(const common::SpiffeId& id) {
  return absl::NotFoundError(StrCat(AgentName(id), " not found"));
}

// `join token for agent "spiffe://..."`: names the agent the token is for, never the token.
std::string JoinTokenName(const JoinToken& token) {
  return StrCat("join token for agent ", Quote(token.agent_id.ToString()));
}

// A row of kAgentColumns.
absl::StatusOr<AttestedAgent> ReadAgent(const SqlRow& row) {
  AttestedAgent a;
  SPINEL_ASSIGN_OR_RETURN(a.spiffe_id, DecodeSpiffeId(row.Text(0), "agent"));
  a.attestation_type = row.Text(1);
  a.serial_number = row.Text(2);
  a.svid_expires_at = row.Int(3);
  SPINEL_ASSIGN_OR_RETURN(a.selectors, DecodeSelectors(row.Text(4), AgentName(a.spiffe_id)));
  a.banned = row.Bool(5);
  a.created_at = row.Int(6);
  a.updated_at = row.Int(7);
  return a;
}

// A row of kJoinTokenColumns.
absl::StatusOr<JoinToken> ReadJoinToken(const SqlRow& row) {
  JoinToken t;
  t.token_hash = row.Text(0);
  SPINEL_ASSIGN_OR_RETURN(t.agent_id, DecodeSpiffeId(row.Text(1), "join token"));
  t.expires_at = row.Int(2);
  t.used_at = row.OptionalInt(3);
  t.created_at = row.Int(4);
  return t;
}

// Why ConsumeJoinToken could not take `stored`.
absl::Status NotConsumable(const JoinToken& stored) {
  if (stored.used_at) {
    return absl::FailedPreconditionError(
        StrCat(JoinTokenName(stored), " was already used (at ", *stored.used_at, ")"));
  }
  return absl::FailedPreconditionError(
      StrCat(JoinTokenName(stored), " expired at ", stored.expires_at));
}

}  // namespace

// --- Attested agents ----------------------------------------------------------------------

absl::StatusOr<AttestedAgent> SqlStore::GetAgentOn(SqlSession& s, const common::SpiffeId& id) {
  SPINEL_ASSIGN_OR_RETURN(
      SqlRows rows,
      s.Query(StrCat("SELECT ", kAgentColumns, " FROM attested_agents WHERE spiffe_id = $1"),
              SqlParams().Text(id.ToString())));
  if (rows.empty()) return AgentNotFound(id);
  return ReadAgent(rows[0]);
}

absl::StatusOr<AttestedAgent> SqlStore::CreateAttestedAgent(const AttestedAgent& in) {
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, NormalizeAgent(in));
  agent.banned = false;
  agent.created_at = agent.updated_at = NowSeconds();
  const SqlParams params = SqlParams()
                               .Text(agent.spiffe_id.ToString())
                               .Text(agent.attestation_type)
                               .Text(agent.serial_number)
                               .Int(agent.svid_expires_at)
                               .Text(EncodeSelectors(agent.selectors))
                               .Bool(false)
                               .Int(agent.created_at)
                               .Int(agent.updated_at);
  return Write([&](WriteSession& s) -> absl::StatusOr<AttestedAgent> {
    absl::Status status = s.Query(StrCat("INSERT INTO attested_agents (", kAgentColumns,
                                         ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
                                  params)
                              .status();
    if (status.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError(StrCat(AgentName(agent.spiffe_id), " already exists"));
    }
    SPINEL_RETURN_IF_ERROR(status);
    SPINEL_RETURN_IF_ERROR(RecordChange(s, ChangeKind::kAgent, agent.spiffe_id.ToString(), false));
    return agent;
  });
}

absl::StatusOr<AttestedAgent> SqlStore::UpdateAttestedAgent(const AttestedAgent& in) {
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, NormalizeAgent(in));
  return Write([&](WriteSession& s) -> absl::StatusOr<AttestedAgent> {
    SPINEL_ASSIGN_OR_RETURN(AttestedAgent stored, GetAgentOn(s, agent.spiffe_id));
    agent.banned = stored.banned;
    agent.created_at = stored.created_at;
    agent.updated_at = NowSeconds();
    SPINEL_RETURN_IF_ERROR(
        s.Query("UPDATE attested_agents SET attestation_type = $2, serial_number = $3, "
                "svid_expires_at = $4, selectors = $5, updated_at = $6 WHERE spiffe_id = $1",
                SqlParams()
                    .Text(agent.spiffe_id.ToString())
                    .Text(agent.attestation_type)
                    .Text(agent.serial_number)
                    .Int(agent.svid_expires_at)
                    .Text(EncodeSelectors(agent.selectors))
                    .Int(agent.updated_at))
            .status());
    SPINEL_RETURN_IF_ERROR(RecordChange(s, ChangeKind::kAgent, agent.spiffe_id.ToString(), false));
    return agent;
  });
}

absl::StatusOr<AttestedAgent> SqlStore::GetAttestedAgent(const common::SpiffeId& id) {
  return ReadSql(*db_, [&](SqlSession& s) { return GetAgentOn(s, id); });
}

absl::StatusOr<std::vector<AttestedAgent>> SqlStore::ListAttestedAgents(const AgentFilter& filter) {
  SqlConditions where;
  if (filter.attestation_type) where.AddText("attestation_type = ", *filter.attestation_type);
  if (filter.banned) where.AddBool("banned = ", *filter.banned);
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<std::vector<AttestedAgent>> {
    SPINEL_ASSIGN_OR_RETURN(
        SqlRows rows, s.Query(StrCat("SELECT ", kAgentColumns, " FROM attested_agents", where.Sql(),
                                     " ORDER BY spiffe_id"),
                              where.params()));
    std::vector<AttestedAgent> out;
    for (int i = 0; i < rows.size(); ++i) {
      SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, ReadAgent(rows[i]));
      out.push_back(std::move(agent));
    }
    return out;
  });
}

absl::Status SqlStore::DeleteAttestedAgent(const common::SpiffeId& id) {
  return Write([&](WriteSession& s) -> absl::Status {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows,
                            s.Query("DELETE FROM attested_agents WHERE spiffe_id = $1",
                                    SqlParams().Text(id.ToString())));
    if (rows.affected() == 0) return AgentNotFound(id);
    return RecordChange(s, ChangeKind::kAgent, id.ToString(), true);
  });
}

absl::StatusOr<AttestedAgent> SqlStore::SetAgentBanned(const common::SpiffeId& id, bool banned) {
  return Write([&](WriteSession& s) -> absl::StatusOr<AttestedAgent> {
    SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, GetAgentOn(s, id));
    agent.banned = banned;
    agent.updated_at = NowSeconds();
    SPINEL_RETURN_IF_ERROR(
        s.Query("UPDATE attested_agents SET banned = $2, updated_at = $3 WHERE spiffe_id = $1",
                SqlParams().Text(id.ToString()).Bool(banned).Int(agent.updated_at))
            .status());
    SPINEL_RETURN_IF_ERROR(RecordChange(s, ChangeKind::kAgent, id.ToString(), false));
    return agent;
  });
}

// --- Join tokens --------------------------------------------------------------------------

absl::StatusOr<JoinToken> SqlStore::GetJoinTokenOn(SqlSession& s, const std::string& hash) {
  SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query(StrCat("SELECT ", kJoinTokenColumns,
                                                       " FROM join_tokens WHERE token_hash = $1"),
                                                SqlParams().Text(hash)));
  if (rows.empty()) return absl::NotFoundError("join token not found");
  return ReadJoinToken(rows[0]);
}

absl::StatusOr<JoinToken> SqlStore::CreateJoinToken(std::string_view token,
                                                    const common::SpiffeId& agent_id,
                                                    int64_t expires_at) {
  if (token.empty()) return absl::InvalidArgumentError("join token: the token is empty");
  if (agent_id.empty()) return absl::InvalidArgumentError("join token: agent_id is required");
  JoinToken out{JoinTokenHash(token), agent_id, expires_at, std::nullopt, NowSeconds()};
  return Write([&](WriteSession& s) -> absl::StatusOr<JoinToken> {
    absl::Status status = s.Query(StrCat("INSERT INTO join_tokens (", kJoinTokenColumns,
                                         ") VALUES ($1, $2, $3, NULL, $4)"),
                                  SqlParams()
                                      .Text(out.token_hash)
                                      .Text(agent_id.ToString())
                                      .Int(expires_at)
                                      .Int(out.created_at))
                              .status();
    if (status.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError(StrCat(JoinTokenName(out), ": this token is already stored"));
    }
    SPINEL_RETURN_IF_ERROR(status);
    return out;
  });
}

absl::StatusOr<JoinToken> SqlStore::ConsumeJoinToken(std::string_view token) {
  const std::string hash = JoinTokenHash(token);
  const int64_t now = NowSeconds();
  return Write([&](WriteSession& s) -> absl::StatusOr<JoinToken> {
    // One conditional UPDATE: only an unused, unexpired token changes, so single use holds
    // against every process and replica sharing the database.
    SPINEL_ASSIGN_OR_RETURN(
        SqlRows rows, s.Query(StrCat("UPDATE join_tokens SET used_at = $2 WHERE token_hash = $1 "
                                     "AND used_at IS NULL AND expires_at > $2 RETURNING ",
                                     kJoinTokenColumns),
                              SqlParams().Text(hash).Int(now)));
    if (!rows.empty()) return ReadJoinToken(rows[0]);
    // Nothing changed: say why (the transaction rolls back, there is nothing to undo).
    SPINEL_ASSIGN_OR_RETURN(JoinToken stored, GetJoinTokenOn(s, hash));
    return NotConsumable(stored);
  });
}

absl::StatusOr<int64_t> SqlStore::PruneJoinTokens(int64_t expired_before) {
  return Write([&](WriteSession& s) -> absl::StatusOr<int64_t> {
    SPINEL_ASSIGN_OR_RETURN(SqlRows rows, s.Query("DELETE FROM join_tokens WHERE expires_at < $1",
                                                  SqlParams().Int(expired_before)));
    return rows.affected();
  });
}

}  // namespace spinel::server
