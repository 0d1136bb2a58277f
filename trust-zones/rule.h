// One resource rule of a zone: which resources (kind + name pattern), which actions, under
// which request-context conditions, and with what effect. Parsed from an entry of a zone file's
// `resources` list:
//
//   - name: prod-tools-need-approval    # optional; unique within the zone
//     description: ...                  # optional
//     resource: "tool:deploy.*"         # <kind>:<pattern> (pattern.h)
//     actions: [invoke]                 # from the kind's vocabulary, or [*] for all of them
//     when: {environment: production}   # optional; key -> value or list of allowed values
//     effect: allow                     # allow (default) or deny
//     approval: required                # optional; "required" or "none"; allow rules only
//     on_behalf_of: {groups: [sre]}     # optional; delegation conditions (delegation_rule.h):
//     via: ["inference/*"]              #   the user's claims, the actor chain and its
//     max_chain: 2                      #   length; any of them means a user is required
//
// Kinds and their action vocabulary (an action outside it is an error at load and a DENY at
// evaluation):
//   dataset: read, write, list, delete
//   secret:  read
//   tool:    invoke
//   zone:    call   (calling a workload of the named zone)
//
// Conditions: every `when` key must be present in the request context with one of the listed
// values (exact, case-sensitive match). A key absent from the context does not match, for deny
// rules too, so a conditional deny does not cover requests that omit the key: prefer
// conditional allow rules. Rules are immutable after parsing and thread-safe to read.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/yaml_reader.h"
#include "trust-zones/pattern.h"
#include "trust-zones/source_location.h"

namespace spinel::zones {

// The request context an access decision is made on, e.g. {"environment": "production",
// "on_behalf_of": "group-a"}. Supplied by the caller; sorted by key.
using RequestContext = std::map<std::string, std::string, std::less<>>;

enum class ResourceKind : uint8_t { kDataset, kSecret, kTool, kZone };
enum class Action : uint8_t { kRead, kWrite, kList, kDelete, kInvoke, kCall };
enum class Effect : uint8_t { kAllow, kDeny };

std::string_view KindName(ResourceKind kind);
std::optional<ResourceKind> ParseKind(std::string_view name);
std::string_view ActionName(Action action);
// The action named `name` when it is in `kind`'s vocabulary, else nullopt.
std::optional<Action> ParseAction(ResourceKind kind, std::string_view name);
// The vocabulary as text for messages, e.g. "read, write, list, delete".
std::string ActionVocabulary(ResourceKind kind);

// A bit set of Actions.
using ActionSet = uint8_t;
constexpr ActionSet ActionBit(Action a) {
  return static_cast<ActionSet>(1u << static_cast<int>(a));
}

struct Condition {
  std::string key;
  std::vector<std::string> values;  // any one of them matches
};

// Conditions on the delegation behind a request (delegation_rule.h). A rule with any of them
// (`requires_user`) matches only requests made on behalf of a user.
struct DelegationConditions {
  bool requires_user = false;
  std::vector<Condition> on_behalf_of;  // user claims; key "sub" is the user's subject
  std::vector<Pattern> via;             // every actor must match one of them
  std::optional<size_t> max_chain;      // at most this many actors
};

struct Rule {
  // "<zone>/<name>" for a named rule, else "<zone>/resources[<index>]".
  std::string id;
  std::string name;
  std::string description;
  ResourceKind kind = ResourceKind::kDataset;
  Pattern pattern;
  ActionSet actions = 0;
  std::vector<Condition> when;
  Effect effect = Effect::kAllow;
  bool approval_required = false;
  DelegationConditions delegation;
  SourceLocation location;  // the list entry in the zone file

  bool Covers(Action action) const { return (actions & ActionBit(action)) != 0; }
  bool ConditionsHold(const RequestContext& context) const;
  // One line for `zone show` and messages, e.g.
  // "allow tool:deploy.* [invoke] when environment=production on behalf of groups=sre via
  // inference/* (approval required)".
  std::string ToString() const;
};

// Parses entry `index` of zone `zone`'s `resources` list. `map` reads the entry; `raw` is the
// same YAML node (needed for `when`, whose values may be lists). Problems are recorded in
// map.errors() with file, line and key path; the returned rule is meaningful only when no
// error was recorded.
Rule ParseRule(common::YamlMap& map, const YAML::Node& raw, std::string_view zone, size_t index);

}  // namespace spinel::zones
