// SqliteDatastore: step-up approvals (datastore.h). Every transition reads the stored
// zones::ApprovalRequest, applies the state machine's method and writes the result back inside
// one BEGIN IMMEDIATE transaction, under the connection mutex: transitions of one approval are
// serialized within the process and, through SQLite's write lock, across processes.
#include <utility>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/datastore/approval_codec.h"
#include "server/datastore/records.h"
#include "server/datastore/sqlite_datastore.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;
using zones::ApprovalRequest;
using zones::ApprovalState;

}  // namespace

absl::Status SqliteDatastore::WriteApproval(const ApprovalRecord& approval, bool insert) {
  const ApprovalRequest& r = approval.request;
  SPINEL_ASSIGN_OR_RETURN(std::string context, EncodeApprovalContext(approval.context));
  const std::string sql =
      insert ? StrCat("INSERT INTO approvals (", kApprovalColumns,
                      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                      "?15, ?16)")
             : std::string(
                   "UPDATE approvals SET state = ?12, decided_by = ?13, "
                   "decision_reason = ?14, decided_at_ms = ?15, used_at_ms = ?16 "
                   "WHERE id = ?1");
  SPINEL_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(sql));
  stmt.BindText(1, r.id);
  if (insert) {
    stmt.BindText(2, r.binding.subject).BindText(3, r.binding.resource);
    stmt.BindText(4, r.binding.action).BindText(5, r.binding.context_digest);
    stmt.BindText(6, context).BindText(7, r.requesting_agent).BindText(8, r.zone);
    stmt.BindText(9, r.rule_id)
        .BindInt(10, UnixMillis(r.created_at))
        .BindInt(11, UnixMillis(r.expires_at));
  }
  stmt.BindText(12, zones::ApprovalStateName(r.state)).BindText(13, r.decided_by);
  stmt.BindText(14, r.decision_reason).BindInt(15, UnixMillis(r.decided_at));
  stmt.BindInt(16, UnixMillis(r.used_at));
  return stmt.Run();
}

absl::StatusOr<ApprovalRecord> SqliteDatastore::GetApprovalLocked(std::string_view id) {
  SPINEL_ASSIGN_OR_RETURN(Statement stmt, db_.Prepare(StrCat("SELECT ", kApprovalColumns,
                                                             " FROM approvals WHERE id = ?1")));
  stmt.BindText(1, id);
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return ApprovalNotFound(id);
  return ReadApproval(stmt);
}

absl::StatusOr<std::optional<ApprovalRecord>> SqliteDatastore::FindLiveApprovalLocked(
    const zones::ApprovalBinding& binding) {
  SPINEL_ASSIGN_OR_RETURN(
      Statement stmt,
      db_.Prepare(StrCat("SELECT ", kApprovalColumns,
                         " FROM approvals WHERE subject = ?1 AND resource = ?2 AND action = ?3 "
                         "AND context_digest = ?4 AND state = 'pending' AND expires_at_ms > ?5 "
                         "ORDER BY created_at_ms DESC, id LIMIT 1")));
  stmt.BindText(1, binding.subject).BindText(2, binding.resource).BindText(3, binding.action);
  stmt.BindText(4, binding.context_digest).BindInt(5, UnixMillis(clock_.Now()));
  SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<ApprovalRecord>();
  SPINEL_ASSIGN_OR_RETURN(ApprovalRecord found, ReadApproval(stmt));
  return std::optional<ApprovalRecord>(std::move(found));
}

absl::StatusOr<CreatedApproval> SqliteDatastore::CreateApproval(const ApprovalRecord& approval) {
  SPINEL_RETURN_IF_ERROR(ValidateNewApproval(approval));
  ApprovalRecord stored = approval;
  stored.request.created_at = TruncateToMillis(stored.request.created_at);
  stored.request.expires_at = TruncateToMillis(stored.request.expires_at);
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(std::optional<ApprovalRecord> live,
                          FindLiveApprovalLocked(stored.request.binding));
  if (live.has_value()) return CreatedApproval{*std::move(live), false};
  SPINEL_RETURN_IF_ERROR(WriteApproval(stored, /*insert=*/true));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return CreatedApproval{std::move(stored), true};
}

absl::StatusOr<ApprovalRecord> SqliteDatastore::GetApproval(std::string_view id) {
  absl::MutexLock lock(&mu_);
  return GetApprovalLocked(id);
}

absl::StatusOr<std::vector<ApprovalRecord>> SqliteDatastore::ListApprovals(
    const ApprovalFilter& filter) {
  SqlConditions where;
  if (filter.zone) where.AddText("zone = ?", *filter.zone);
  if (filter.state) {
    const int64_t now = UnixMillis(clock_.Now());
    const std::string& state = *filter.state;
    if (state == "expired") {
      where.AddInt("state IN ('pending', 'approved') AND expires_at_ms <= ?", now);
    } else if (state == "pending" || state == "approved") {
      where.AddText("state = ?", state);
      where.AddInt("expires_at_ms > ?", now);
    } else if (state == "denied" || state == "used") {
      where.AddText("state = ?", state);
    } else {
      return absl::InvalidArgumentError(
          StrCat("approval state ", Quote(state),
                 " is not one of pending, approved, denied, used, expired"));
    }
  }
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Statement stmt,
                          db_.Prepare(StrCat("SELECT ", kApprovalColumns, " FROM approvals",
                                             where.Sql(), " ORDER BY created_at_ms DESC, id")));
  where.Bind(stmt);
  std::vector<ApprovalRecord> out;
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    SPINEL_ASSIGN_OR_RETURN(ApprovalRecord approval, ReadApproval(stmt));
    out.push_back(std::move(approval));
  }
}

absl::StatusOr<ApprovalRecord> SqliteDatastore::TransitionApproval(
    std::string_view id, const std::function<absl::Status(ApprovalRequest&)>& transition) {
  absl::MutexLock lock(&mu_);
  SPINEL_ASSIGN_OR_RETURN(Transaction txn, BeginWrite());
  SPINEL_ASSIGN_OR_RETURN(ApprovalRecord approval, GetApprovalLocked(id));
  SPINEL_RETURN_IF_ERROR(transition(approval.request));
  approval.request.decided_at = TruncateToMillis(approval.request.decided_at);
  approval.request.used_at = TruncateToMillis(approval.request.used_at);
  SPINEL_RETURN_IF_ERROR(WriteApproval(approval, /*insert=*/false));
  SPINEL_RETURN_IF_ERROR(txn.Commit());
  return approval;
}

absl::StatusOr<ApprovalRecord> SqliteDatastore::ApproveApproval(std::string_view id,
                                                                std::string_view approver,
                                                                std::string_view reason) {
  return TransitionApproval(
      id, [&](ApprovalRequest& r) { return r.Approve(approver, reason, clock_); });
}

absl::StatusOr<ApprovalRecord> SqliteDatastore::DenyApproval(std::string_view id,
                                                             std::string_view approver,
                                                             std::string_view reason) {
  return TransitionApproval(id,
                            [&](ApprovalRequest& r) { return r.Deny(approver, reason, clock_); });
}

absl::StatusOr<ApprovalRecord> SqliteDatastore::UseApproval(
    std::string_view id, const zones::ApprovalBinding& presented) {
  return TransitionApproval(id, [&](ApprovalRequest& r) { return r.Use(presented, clock_); });
}

}  // namespace spinel::server
