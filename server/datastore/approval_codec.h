// Storage encoding of step-up approvals (types.h ApprovalRecord) for the SQL store
// (sql_approvals.cc).
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/datastore/records.h"
#include "server/datastore/sql_value.h"
#include "server/datastore/types.h"

namespace spinel::server {

inline constexpr size_t kMaxApprovalIdLength = 128;

// Column order shared by SELECTs (columns 0..18) and INSERTs (parameters 1..19). Times are
// stored as Unix milliseconds (records.h UnixMillis; 0: not yet). The binding's user is
// user_issuer and user_subject ("" for nobody), its actor chain a JSON array (records.h
// EncodeStrings; "[]" for none).
inline constexpr char kApprovalColumns[] =
    "id, subject, resource, action, context_digest, context, requesting_agent, zone, rule_id, "
    "created_at_ms, expires_at_ms, state, decided_by, decision_reason, decided_at_ms, used_at_ms, "
    "user_issuer, user_subject, actor_chain";

// The stored state name (zones::ApprovalStateName) back to the state; DataLoss naming the
// approval `id` for an unknown one.
absl::StatusOr<zones::ApprovalState> ParseApprovalState(const std::string& text,
                                                        std::string_view id);

// The request context as a JSON object of strings, and back (DataLoss when malformed).
absl::StatusOr<std::string> EncodeApprovalContext(const zones::RequestContext& context);
absl::StatusOr<zones::RequestContext> DecodeApprovalContext(const std::string& text,
                                                            std::string_view id);

absl::Status ApprovalNotFound(std::string_view id);

// A row of kApprovalColumns.
absl::StatusOr<ApprovalRecord> ReadApproval(const SqlRow& row);

// Checks what the state machine's Create does not: the id (1..128 characters), the pending
// state and that the context matches the binding's digest.
absl::Status ValidateNewApproval(const ApprovalRecord& approval);

}  // namespace spinel::server
