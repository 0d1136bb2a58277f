// Resource policy evaluation: may a subject (a workload holding SVIDs in one or more zones)
// perform `action` on `resource` given the request context?
//
// Decision order (deterministic; the most restrictive matching rule wins):
//   1. The request is malformed (unknown kind, action outside the kind's vocabulary, a resource
//      name that is empty, too long, not printable ASCII, or has an empty, "." or ".." path
//      segment; a delegation without a user or actors, or with more than
//      common::kMaxDelegationChain actors; for a subject, a delegation whose current actor is
//      not that subject), or the subject has no zone                 -> DENY, no rule
//   2. Any matching deny rule                                        -> DENY by the first one
//   3. Else any matching allow rule with `approval: required`        -> APPROVAL_REQUIRED by the
//                                                                       first one
//   4. Else any matching allow rule                                  -> ALLOW by the first one
//   5. Else, when an allow rule matched everything but its delegation conditions (a user is
//      required and there is none, a user claim, the actor chain or its length does not fit)
//                                                                    -> DENY naming the first
//                                                                       such rule and why, e.g.
//      "rule tools/deploys allows invoke on tool:deploy.api only on behalf of a user: requires
//      a user (on whose behalf) and the request has none" (Decision::rule stays nullptr: no
//      rule matched)
//   6. No matching rule                                              -> DENY "no rule allows"
// A rule matches when its kind equals the request's, it covers the action, its pattern matches
// the name, all its `when` conditions hold (rule.h) and its delegation conditions hold for the
// request's delegation (delegation_rule.h; a rule with any of them never matches a request on
// behalf of nobody). Peering does not grant resource access;
// `zone:<name>` rules govern calls to other zones' workloads.
//
// Evaluate allocates only the reason string; it is thread-safe on an immutable ZoneSet. The
// returned Decision points into the zones evaluated and must not outlive them.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "common/spiffe_id.h"
#include "trust-zones/delegation_context.h"
#include "trust-zones/rule.h"
#include "trust-zones/zone.h"

namespace spinel::zones {

enum class Verdict { kAllow, kDeny, kApprovalRequired };

// "ALLOW", "DENY", "APPROVAL_REQUIRED".
std::string_view VerdictName(Verdict verdict);

struct AccessRequest {
  std::string_view resource;                // "<kind>:<name>", e.g. "tool:jira.create_ticket"
  std::string_view action;                  // e.g. "invoke"
  const RequestContext* context = nullptr;  // nullptr: empty context
  // The verified delegation (from a validated delegation token) when the subject acts on
  // behalf of a user; nullptr: on behalf of nobody. Never built from caller-asserted context.
  const DelegationContext* delegation = nullptr;
};

struct Decision {
  Verdict verdict = Verdict::kDeny;
  const Zone* zone = nullptr;  // zone of the matched rule; nullptr when no rule matched
  const Rule* rule = nullptr;  // the matched rule; nullptr when no rule matched
  std::string reason;          // human-readable, names the rule, e.g.
                               // "rule training/no-tools denies invoke on tool:jira.x"

  bool allowed() const { return verdict == Verdict::kAllow; }
  // The matched rule's id ("<zone>/<name>" or "<zone>/resources[<i>]"), or "".
  std::string_view rule_id() const { return rule == nullptr ? std::string_view() : rule->id; }
};

// Evaluates `request` on the rules of `zones` (null entries are skipped).
Decision Evaluate(std::span<const Zone* const> zones, const AccessRequest& request);

// Evaluates for a subject identified by its SPIFFE ID: its zone is the zone of its trust domain.
// A subject in no known zone is denied.
Decision Evaluate(const ZoneSet& set, const common::SpiffeId& subject,
                  const AccessRequest& request);

// Checks a resource name as Evaluate does (rule 1 above); the error says what is wrong.
absl::Status CheckResourceName(std::string_view name);

}  // namespace spinel::zones
