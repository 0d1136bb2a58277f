// Storage encoding of step-up approvals (types.h ApprovalRecord), shared by every Datastore
// implementation so that they store, accept and refuse exactly the same approvals.
// All functions are pure and thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/datastore/types.h"

namespace spinel::server {

inline constexpr size_t kMaxApprovalIdLength = 128;

// Approval times are stored as Unix milliseconds.
int64_t ApprovalMillis(common::TimePoint t);
common::TimePoint ApprovalFromMillis(int64_t ms);
// Keeps stored and returned times identical: what a caller gets back equals what a Get reads.
inline common::TimePoint TruncateToMillis(common::TimePoint t) {
  return ApprovalFromMillis(ApprovalMillis(t));
}

// The stored state name (zones::ApprovalStateName) back to the state; DataLoss naming the
// approval `id` for an unknown one.
absl::StatusOr<zones::ApprovalState> ParseApprovalState(const std::string& text,
                                                        std::string_view id);

// The request context as a JSON object of strings, and back (DataLoss when malformed).
absl::StatusOr<std::string> EncodeApprovalContext(const zones::RequestContext& context);
absl::StatusOr<zones::RequestContext> DecodeApprovalContext(const std::string& text,
                                                            std::string_view id);

absl::Status ApprovalNotFound(std::string_view id);

// Checks what the state machine's Create does not: the id (1..128 characters), the pending
// state and that the context matches the binding's digest.
absl::Status ValidateNewApproval(const ApprovalRecord& approval);

}  // namespace spinel::server
