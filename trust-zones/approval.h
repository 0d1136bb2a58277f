// Step-up approvals. When policy answers APPROVAL_REQUIRED, the server records an
// ApprovalRequest bound to the exact subject, resource, action and request context, and, for a
// request made on behalf of a user, to that user (issuer and subject) and the exact actor chain
// (an approval granted for alice via agent -> caller covers neither bob nor another chain, nor
// a request on behalf of nobody); an operator
// approves or denies it; the approved request then turns exactly one identical access into
// ALLOW before it expires.
//
//   pending --Approve--> approved --Use--> used
//      \----Deny-----> denied
//
// Expiry is not a stored state: a pending or approved request whose expires_at has passed is
// expired (IsExpired) and can be neither approved nor used. Every refused transition leaves the
// request unchanged and returns an error whose message is the reason: FailedPrecondition for
// Approve/Deny in the wrong state, PermissionDenied for every failed Use (not approved yet,
// denied, used before, expired, or a subject, resource, action, context, user or chain that
// differs from the bound one). A failed Use does not consume the approval.
//
// Pure logic: storage, ids and concurrency are the caller's (the server serializes transitions
// of one request, e.g. in a datastore transaction). Time comes from the injected clock.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "trust-zones/delegation_context.h"
#include "trust-zones/rule.h"

namespace spinel::zones {

enum class ApprovalState { kPending, kApproved, kDenied, kUsed };

// "pending", "approved", "denied", "used".
std::string_view ApprovalStateName(ApprovalState state);

// The canonical, unambiguous encoding of a request context: for each entry in key order,
// "<key length>:<key>=<value length>:<value>\n" (lengths in decimal bytes).
std::string CanonicalContext(const RequestContext& context);
// SHA-256 hex of CanonicalContext.
absl::StatusOr<std::string> ContextDigest(const RequestContext& context);

// What an approval is bound to; Use must present exactly the same.
struct ApprovalBinding {
  std::string subject;         // SPIFFE ID of the workload
  std::string resource;        // "<kind>:<name>"
  std::string action;          // from the kind's vocabulary
  std::string context_digest;  // ContextDigest of the request context
  // On whose behalf (all empty: on behalf of nobody): the user's issuer and subject, and the
  // actor chain's SPIFFE IDs, current actor (= subject) first.
  std::string user_issuer;
  std::string user;
  std::vector<std::string> actor_chain;

  // Builds a binding, computing the context digest; `delegation` (nullptr: none) gives the
  // user and chain.
  static absl::StatusOr<ApprovalBinding> Make(std::string subject, std::string resource,
                                              std::string action, const RequestContext& context,
                                              const DelegationContext* delegation = nullptr);
  bool delegated() const { return !user.empty(); }
  bool operator==(const ApprovalBinding&) const = default;
};

struct NewApproval {
  std::string id;  // unique, chosen by the caller (e.g. NewApprovalId())
  ApprovalBinding binding;
  std::string requesting_agent;  // SPIFFE ID of the agent that asked
  std::string zone;              // informational: zone of the rule that required approval
  std::string rule_id;           // informational: that rule
  common::Duration ttl{};        // how long the request stays usable; > 0
};

struct ApprovalRequest {
  std::string id;
  ApprovalBinding binding;
  std::string requesting_agent;
  std::string zone;
  std::string rule_id;
  common::TimePoint created_at{};
  common::TimePoint expires_at{};
  ApprovalState state = ApprovalState::kPending;
  std::string decided_by;       // operator who approved or denied
  std::string decision_reason;  // the operator's reason
  common::TimePoint decided_at{};
  common::TimePoint used_at{};

  // Validates `request` (ids parse as SPIFFE IDs, resource and action are well formed, the
  // digest is SHA-256 hex, ttl > 0; a user has an issuer and a chain of 1..16 SPIFFE IDs whose
  // first is the subject, and a chain has a user); InvalidArgument names the field.
  static absl::StatusOr<ApprovalRequest> Create(NewApproval request, const common::Clock& clock);

  bool IsExpired(common::TimePoint now) const { return now >= expires_at; }
  // "expired" for an expired pending/approved request, else ApprovalStateName(state).
  std::string_view StatusText(common::TimePoint now) const;

  // pending and unexpired -> approved. `approver` must not be empty; `reason` may be.
  absl::Status Approve(std::string_view approver, std::string_view reason,
                       const common::Clock& clock);
  // pending (expired or not) -> denied. `approver` and `reason` must not be empty.
  absl::Status Deny(std::string_view approver, std::string_view reason, const common::Clock& clock);
  // approved, unexpired and `presented` equal to the binding -> used. Succeeds at most once.
  absl::Status Use(const ApprovalBinding& presented, const common::Clock& clock);
};

// A fresh random id, "apr-" followed by 32 hex digits (128 bits from the OpenSSL RNG).
absl::StatusOr<std::string> NewApprovalId();

}  // namespace spinel::zones
