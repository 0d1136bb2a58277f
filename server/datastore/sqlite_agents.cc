// SqliteDatastore: attested agents and join tokens.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/records.h"
#include "server/datastore/sqlite_datastore.h"

namespace spinel::server {
namespace {

using common::StrCat;

}  // namespace

// --- Attested agents ----------------------------------------------------------------------

absl::StatusOr<AttestedAgent> SqliteDatastore::GetAgentLocked(const common::SpiffeId& id) {
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("SELECT ", kAgentColumns, " FROM attested_agents WHERE spiffe_id = ?1")));
  stmt.BindText(1, id.ToString());
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return AgentNotFound(id);
  return ReadAgent(stmt);
}

absl::StatusOr<AttestedAgent> SqliteDatastore::CreateAttestedAgent(const AttestedAgent& in) {
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, NormalizeAgent(in));
  agent.banned = false;
  agent.created_at = agent.updated_at = NowSeconds();
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare(StrCat("INSERT INTO attested_agents (", kAgentColumns,
                                             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")));
  stmt.BindText(1, agent.spiffe_id.ToString()).BindText(2, agent.attestation_type);
  stmt.BindText(3, agent.serial_number).BindInt(4, agent.svid_expires_at);
  stmt.BindText(5, EncodeSelectors(agent.selectors)).BindInt(6, 0);
  stmt.BindInt(7, agent.created_at).BindInt(8, agent.updated_at);
  absl::Status status = stmt.Run();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(StrCat(AgentName(agent.spiffe_id), " already exists"));
  }
  SPINEL_RETURN_IF_ERROR(status);
  SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kAgent, agent.spiffe_id.ToString(), false));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return agent;
}

absl::StatusOr<AttestedAgent> SqliteDatastore::UpdateAttestedAgent(const AttestedAgent& in) {
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, NormalizeAgent(in));
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent stored, GetAgentLocked(agent.spiffe_id));
  agent.banned = stored.banned;
  agent.created_at = stored.created_at;
  agent.updated_at = NowSeconds();
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare("UPDATE attested_agents SET attestation_type = ?2, serial_number = ?3, "
                  "svid_expires_at = ?4, selectors = ?5, updated_at = ?6 WHERE spiffe_id = ?1"));
  stmt.BindText(1, agent.spiffe_id.ToString()).BindText(2, agent.attestation_type);
  stmt.BindText(3, agent.serial_number).BindInt(4, agent.svid_expires_at);
  stmt.BindText(5, EncodeSelectors(agent.selectors)).BindInt(6, agent.updated_at);
  SPINEL_RETURN_IF_ERROR(stmt.Run());
  SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kAgent, agent.spiffe_id.ToString(), false));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return agent;
}

absl::StatusOr<AttestedAgent> SqliteDatastore::GetAttestedAgent(const common::SpiffeId& id) {
  absl::MutexLock lock(&mu_);
  return GetAgentLocked(id);
}

absl::StatusOr<std::vector<AttestedAgent>> SqliteDatastore::ListAttestedAgents(
    const AgentFilter& filter) {
  SqlConditions where;
  if (filter.attestation_type) where.AddText("attestation_type = ?", *filter.attestation_type);
  if (filter.banned) where.AddInt("banned = ?", *filter.banned ? 1 : 0);
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare(StrCat("SELECT ", kAgentColumns, " FROM attested_agents",
                                             where.Sql(), " ORDER BY spiffe_id")));
  where.Bind(stmt);
  std::vector<AttestedAgent> out;
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, ReadAgent(stmt));
    out.push_back(std::move(agent));
  }
}

absl::Status SqliteDatastore::DeleteAttestedAgent(const common::SpiffeId& id) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("DELETE FROM attested_agents WHERE spiffe_id = ?1"));
  SPINEL_RETURN_IF_ERROR(stmt.BindText(1, id.ToString()).Run());
  if (db_.Changes() == 0) return AgentNotFound(id);
  SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kAgent, id.ToString(), true));
  return txn.Commit();
}

absl::StatusOr<AttestedAgent> SqliteDatastore::SetAgentBanned(const common::SpiffeId& id,
                                                              bool banned) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(AttestedAgent agent, GetAgentLocked(id));
  agent.banned = banned;
  agent.updated_at = NowSeconds();
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare("UPDATE attested_agents SET banned = ?2, updated_at = ?3 WHERE spiffe_id = ?1"));
  stmt.BindText(1, id.ToString()).BindInt(2, banned ? 1 : 0).BindInt(3, agent.updated_at);
  SPINEL_RETURN_IF_ERROR(stmt.Run());
  SPINEL_RETURN_IF_ERROR(RecordChange(ChangeKind::kAgent, id.ToString(), false));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return agent;
}

// --- Join tokens --------------------------------------------------------------------------

absl::StatusOr<JoinToken> SqliteDatastore::GetJoinTokenLocked(const std::string& token_hash) {
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("SELECT ", kJoinTokenColumns, " FROM join_tokens WHERE token_hash = ?1")));
  stmt.BindText(1, token_hash);
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return absl::NotFoundError("join token not found");
  return ReadJoinToken(stmt);
}

absl::StatusOr<JoinToken> SqliteDatastore::CreateJoinToken(std::string_view token,
                                                           const common::SpiffeId& agent_id,
                                                           int64_t expires_at) {
  if (token.empty()) return absl::InvalidArgumentError("join token: the token is empty");
  if (agent_id.empty()) return absl::InvalidArgumentError("join token: agent_id is required");
  JoinToken out{JoinTokenHash(token), agent_id, expires_at, std::nullopt, NowSeconds()};
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare(StrCat("INSERT INTO join_tokens (", kJoinTokenColumns,
                                             ") VALUES (?1, ?2, ?3, NULL, ?4)")));
  stmt.BindText(1, out.token_hash).BindText(2, agent_id.ToString());
  stmt.BindInt(3, expires_at).BindInt(4, out.created_at);
  absl::Status status = stmt.Run();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(StrCat(JoinTokenName(out), ": this token is already stored"));
  }
  SPINEL_RETURN_IF_ERROR(status);
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return out;
}

absl::StatusOr<JoinToken> SqliteDatastore::ConsumeJoinToken(std::string_view token) {
  const std::string hash = JoinTokenHash(token);
  const int64_t now = NowSeconds();
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  // One conditional UPDATE: only an unused, unexpired token changes, so single use holds even
  // against other processes sharing the file.
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("UPDATE join_tokens SET used_at = ?2 WHERE token_hash = ?1 AND "
                         "used_at IS NULL AND expires_at > ?2 RETURNING ",
                         kJoinTokenColumns)));
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.BindText(1, hash).BindInt(2, now).Step());
  if (row) {
    SPINEL_ASSIGN_OR_RETURN(JoinToken consumed, ReadJoinToken(stmt));
    SPINEL_RETURN_IF_ERROR(stmt.Run());  // finish the statement before COMMIT
    SPINEL_RETURN_IF_ERROR(txn.Commit());
    return consumed;
  }
  // Nothing changed: say why (the transaction rolls back, there is nothing to undo).
  SPINEL_ASSIGN_OR_RETURN(JoinToken stored, GetJoinTokenLocked(hash));
  if (stored.used_at) {
    return absl::FailedPreconditionError(
        StrCat(JoinTokenName(stored), " was already used (at ", *stored.used_at, ")"));
  }
  return absl::FailedPreconditionError(
      StrCat(JoinTokenName(stored), " expired at ", stored.expires_at));
}

absl::StatusOr<int64_t> SqliteDatastore::PruneJoinTokens(int64_t expired_before) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare("DELETE FROM join_tokens WHERE expires_at < ?1"));
  SPINEL_RETURN_IF_ERROR(stmt.BindInt(1, expired_before).Run());
  const int64_t deleted = db_.Changes();
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return deleted;
}

}  // namespace spinel::server
