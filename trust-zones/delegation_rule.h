// Delegation conditions of resource rules: on whose behalf, through which workloads, and how
// long a chain (the delegation comes from a validated delegation token; delegation_context.h).
//
//   on_behalf_of: {groups: [sre, oncall], email: alice@example.org}
//       Each listed user claim must have one of the listed values (exact, case-sensitive). A
//       claim the token carries as an array matches when any element is listed. The key "sub"
//       is the user's subject. A claim the zone does not carry (trusted_issuers[].claims) never
//       matches. `on_behalf_of: any` only requires that there is a user.
//   via: ["inference/*", "tool-execution/mcp-*"]
//       EVERY actor of the chain, the current one and all earlier ones, must match one of the
//       patterns (pattern.h syntax), matched against the actor's policy name: "<zone><path>"
//       for actors in a zone of the set, the full SPIFFE ID otherwise (delegation_context.h).
//       RFC 8693 §4.1 treats prior actors as informational because a token consumer cannot
//       know how they were authenticated; here every hop was proved (WIT-SVID + WPT) and
//       re-signed by a Spinel zone's exchange, so the whole chain is attested and a rule may
//       restrict it (e.g. "only through inference workloads").
//   max_chain: 2
//       At most this many actors (1..16).
//
// A rule with any of these keys requires a user: a request with no delegation does not match
// it. When no rule matches and the first allow rule that matched the resource, action and
// `when` failed only on its delegation conditions, policy.h denies with that rule's reason
// (e.g. "requires a user (on whose behalf) and the request has none"). Deny rules with
// delegation conditions deny only delegated requests that meet them.
//
// Thread-safe: pure functions of immutable values.
#pragma once

#include <string>

#include "common/yaml_reader.h"
#include "trust-zones/delegation_context.h"
#include "trust-zones/rule.h"

namespace spinel::zones {

// Reads `on_behalf_of`, `via` and `max_chain` of rule entry `map` (raw node `raw`) into
// rule.delegation; problems are recorded in map.errors() naming the key and line.
void ParseDelegationConditions(common::YamlMap& map, const YAML::Node& raw, Rule& rule);

// "" when `conditions` hold for `delegation` (nullptr: a request on behalf of nobody), else
// why not, e.g. "requires a user (on whose behalf) and the request has none".
std::string DelegationMismatch(const DelegationConditions& conditions,
                               const DelegationContext* delegation);

// The conditions for Rule::ToString, e.g. " on behalf of groups=sre via inference/* max chain
// 2"; "" when there are none.
std::string DelegationConditionsText(const DelegationConditions& conditions);

}  // namespace spinel::zones
