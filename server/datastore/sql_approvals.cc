// SqlStore: step-up approvals (datastore.h). Every transition reads the stored
// zones::ApprovalRequest, applies the state machine's method and writes the result back inside
// one write transaction holding the write lock, so transitions of one approval are serialized
// across every process and replica sharing the database.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/approval_codec.h"
#include "server/datastore/records.h"
#include "server/datastore/sql_store.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;
using zones::ApprovalRequest;

absl::StatusOr<SqlParams> InsertParams(const ApprovalRecord& approval) {
  const ApprovalRequest& r = approval.request;
  SPINEL_ASSIGN_OR_RETURN(std::string context, EncodeApprovalContext(approval.context));
  SqlParams params;
  params.Text(r.id).Text(r.binding.subject).Text(r.binding.resource).Text(r.binding.action);
  params.Text(r.binding.context_digest).Text(context).Text(r.requesting_agent).Text(r.zone);
  params.Text(r.rule_id).Int(UnixMillis(r.created_at)).Int(UnixMillis(r.expires_at));
  params.Text(zones::ApprovalStateName(r.state)).Text(r.decided_by).Text(r.decision_reason);
  params.Int(UnixMillis(r.decided_at)).Int(UnixMillis(r.used_at));
  params.Text(r.binding.user_issuer).Text(r.binding.user);
  params.Text(EncodeStrings(r.binding.actor_chain));
  return params;
}

// The WHERE condition of the operator-visible `state` (ApprovalFilter) at `now_ms`.
absl::Status AddStateCondition(SqlConditions& where, const std::string& state, int64_t now_ms) {
  if (state == "expired") {
    where.AddInt("state IN ('pending', 'approved') AND expires_at_ms <= ", now_ms);
  } else if (state == "pending" || state == "approved") {
    where.AddText("state = ", state);
    where.AddInt("expires_at_ms > ", now_ms);
  } else if (state == "denied" || state == "used") {
    where.AddText("state = ", state);
  } else {
    return absl::InvalidArgumentError(
        StrCat("approval state ", Quote(state),
               " is not one of pending, approved, denied, used, expired"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ApprovalRecord>> ReadApprovals(const SqlRows& rows) {
  std::vector<ApprovalRecord> out;
  for (int i = 0; i < rows.size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(ApprovalRecord approval, ReadApproval(rows[i]));
    out.push_back(std::move(approval));
  }
  return out;
}

}  // namespace

absl::Status SqlStore::WriteApproval(SqlSession& s, const ApprovalRecord& approval, bool insert) {
  const ApprovalRequest& r = approval.request;
  if (!insert) {
    return s
        .Query(
            "UPDATE approvals SET state = $2, decided_by = $3, decision_reason = $4, "
            "decided_at_ms = $5, used_at_ms = $6 WHERE id = $1",
            SqlParams()
                .Text(r.id)
                .Text(zones::ApprovalStateName(r.state))
                .Text(r.decided_by)
                .Text(r.decision_reason)
                .Int(UnixMillis(r.decided_at))
                .Int(UnixMillis(r.used_at)))
        .status();
  }
  SPINEL_ASSIGN_OR_RETURN(SqlParams params, InsertParams(approval));
  absl::Status status =
      s.Query(StrCat("INSERT INTO approvals (", kApprovalColumns,
                     ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, "
                     "$15, $16, $17, $18, $19)"),
              params)
          .status();
  if (status.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(StrCat("approval ", Quote(r.id), " already exists"));
  }
  return status;
}

absl::StatusOr<ApprovalRecord> SqlStore::GetApprovalOn(SqlSession& s, std::string_view id) {
  SPINEL_ASSIGN_OR_RETURN(
      SqlRows rows, s.Query(StrCat("SELECT ", kApprovalColumns, " FROM approvals WHERE id = $1"),
                            SqlParams().Text(id)));
  if (rows.empty()) return ApprovalNotFound(id);
  return ReadApproval(rows[0]);
}

absl::StatusOr<std::optional<ApprovalRecord>> SqlStore::FindLiveApprovalOn(
    SqlSession& s, const zones::ApprovalBinding& binding) {
  SPINEL_ASSIGN_OR_RETURN(
      SqlRows rows,
      s.Query(StrCat("SELECT ", kApprovalColumns,
                     " FROM approvals WHERE subject = $1 AND resource = $2 AND action = $3 "
                     "AND context_digest = $4 AND user_subject = $5 AND user_issuer = $6 "
                     "AND actor_chain = $7 AND state = 'pending' AND expires_at_ms > $8 "
                     "ORDER BY created_at_ms DESC, id LIMIT 1"),
              SqlParams()
                  .Text(binding.subject)
                  .Text(binding.resource)
                  .Text(binding.action)
                  .Text(binding.context_digest)
                  .Text(binding.user)
                  .Text(binding.user_issuer)
                  .Text(EncodeStrings(binding.actor_chain))
                  .Int(UnixMillis(clock_.Now()))));
  if (rows.empty()) return std::optional<ApprovalRecord>();
  SPINEL_ASSIGN_OR_RETURN(ApprovalRecord found, ReadApproval(rows[0]));
  return std::optional<ApprovalRecord>(std::move(found));
}

absl::StatusOr<CreatedApproval> SqlStore::CreateApproval(const ApprovalRecord& approval) {
  SPINEL_RETURN_IF_ERROR(ValidateNewApproval(approval));
  ApprovalRecord stored = approval;
  stored.request.created_at = TruncateToMillis(stored.request.created_at);
  stored.request.expires_at = TruncateToMillis(stored.request.expires_at);
  return Write([&](WriteSession& s) -> absl::StatusOr<CreatedApproval> {
    SPINEL_ASSIGN_OR_RETURN(std::optional<ApprovalRecord> live,
                            FindLiveApprovalOn(s, stored.request.binding));
    if (live.has_value()) return CreatedApproval{*std::move(live), false};
    SPINEL_RETURN_IF_ERROR(WriteApproval(s, stored, /*insert=*/true));
    return CreatedApproval{stored, true};
  });
}

absl::StatusOr<ApprovalRecord> SqlStore::GetApproval(std::string_view id) {
  return ReadSql(*db_, [&](SqlSession& s) { return GetApprovalOn(s, id); });
}

absl::StatusOr<std::vector<ApprovalRecord>> SqlStore::ListApprovals(const ApprovalFilter& filter) {
  SqlConditions where;
  if (filter.zone) where.AddText("zone = ", *filter.zone);
  if (filter.state) {
    SPINEL_RETURN_IF_ERROR(AddStateCondition(where, *filter.state, UnixMillis(clock_.Now())));
  }
  return ReadSql(*db_, [&](SqlSession& s) -> absl::StatusOr<std::vector<ApprovalRecord>> {
    SPINEL_ASSIGN_OR_RETURN(
        SqlRows rows, s.Query(StrCat("SELECT ", kApprovalColumns, " FROM approvals", where.Sql(),
                                     " ORDER BY created_at_ms DESC, id"),
                              where.params()));
    return ReadApprovals(rows);
  });
}

absl::StatusOr<ApprovalRecord> SqlStore::TransitionApproval(
    std::string_view id, const std::function<absl::Status(ApprovalRequest&)>& transition) {
  return Write([&](WriteSession& s) -> absl::StatusOr<ApprovalRecord> {
    SPINEL_ASSIGN_OR_RETURN(ApprovalRecord approval, GetApprovalOn(s, id));
    SPINEL_RETURN_IF_ERROR(transition(approval.request));
    approval.request.decided_at = TruncateToMillis(approval.request.decided_at);
    approval.request.used_at = TruncateToMillis(approval.request.used_at);
    SPINEL_RETURN_IF_ERROR(WriteApproval(s, approval, /*insert=*/false));
    return approval;
  });
}

absl::StatusOr<ApprovalRecord> SqlStore::ApproveApproval(std::string_view id,
                                                         std::string_view approver,
                                                         std::string_view reason) {
  return TransitionApproval(
      id, [&](ApprovalRequest& r) { return r.Approve(approver, reason, clock_); });
}

absl::StatusOr<ApprovalRecord> SqlStore::DenyApproval(std::string_view id,
                                                      std::string_view approver,
                                                      std::string_view reason) {
  return TransitionApproval(id,
                            [&](ApprovalRequest& r) { return r.Deny(approver, reason, clock_); });
}

absl::StatusOr<ApprovalRecord> SqlStore::UseApproval(std::string_view id,
                                                     const zones::ApprovalBinding& presented) {
  return TransitionApproval(id, [&](ApprovalRequest& r) { return r.Use(presented, clock_); });
}

}  // namespace spinel::server
