#include "trust-zones/rule.h"

#include <algorithm>
#include <array>

#include "common/strings.h"
#include "trust-zones/condition_yaml.h"
#include "trust-zones/delegation_rule.h"
#include "trust-zones/raw_yaml.h"

namespace spinel::zones {
namespace {

using common::Quote;
using common::StrAppend;
using common::StrCat;
using common::YamlMap;
using internal::ParseConditions;
using internal::RawChild;
using internal::RawItem;

struct KindInfo {
  ResourceKind kind;
  std::string_view name;
  std::vector<Action> actions;
};

const std::array<KindInfo, 4>& Kinds() {
  static const std::array<KindInfo, 4> kinds = {{
      {ResourceKind::kDataset,
       "dataset",
       {Action::kRead, Action::kWrite, Action::kList, Action::kDelete}},
      {ResourceKind::kSecret, "secret", {Action::kRead}},
      {ResourceKind::kTool, "tool", {Action::kInvoke}},
      {ResourceKind::kZone, "zone", {Action::kCall}},
  }};
  return kinds;
}

const KindInfo& InfoOf(ResourceKind kind) { return Kinds()[static_cast<size_t>(kind)]; }

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Reads `resource: "<kind>:<pattern>"`.
void ParseResource(YamlMap& map, Rule& rule) {
  const std::string text = map.RequiredString("resource");
  if (!map.errors()->ok()) return;
  const size_t colon = text.find(':');
  std::optional<ResourceKind> kind =
      colon == std::string::npos ? std::nullopt : ParseKind(text.substr(0, colon));
  if (!kind) {
    map.Error("resource", StrCat("expected <kind>:<pattern> with kind dataset, secret, tool or "
                                 "zone, got ",
                                 Quote(text)));
    return;
  }
  rule.kind = *kind;
  absl::StatusOr<Pattern> pattern = Pattern::Compile(std::string_view(text).substr(colon + 1));
  if (!pattern.ok()) {
    map.Error("resource", std::string(pattern.status().message()));
    return;
  }
  rule.pattern = *std::move(pattern);
}

void ParseActions(YamlMap& map, const YAML::Node& raw, Rule& rule) {
  const std::vector<std::string> actions = map.StringList("actions");
  if (!map.errors()->ok()) return;
  if (actions.empty()) {
    map.Error("actions", "must list at least one action (or [\"*\"] for all of them)");
    return;
  }
  for (size_t i = 0; i < actions.size(); ++i) {
    if (actions[i] == "*") {
      for (Action a : InfoOf(rule.kind).actions) rule.actions |= ActionBit(a);
      continue;
    }
    std::optional<Action> action = ParseAction(rule.kind, actions[i]);
    if (!action) {
      map.errors()->Add(RawItem(RawChild(raw, "actions"), i), map.PathOf("actions"),
                        StrCat("unknown action ", Quote(actions[i]), " for ", KindName(rule.kind),
                               " (expected ", ActionVocabulary(rule.kind), ")"));
      return;
    }
    rule.actions |= ActionBit(*action);
  }
}

void ParseWhen(YamlMap& map, const YAML::Node& raw, Rule& rule) {
  map.Map("when");  // records the key as known and checks it is a mapping without duplicates
  const YAML::Node when = RawChild(raw, "when");
  if (!map.errors()->ok()) return;
  ParseConditions(map, "when", when, "condition key must not be empty", rule.when);
}

void ParseEffectAndApproval(YamlMap& map, Rule& rule) {
  const std::string effect = map.String("effect").value_or("allow");
  if (effect == "deny") {
    rule.effect = Effect::kDeny;
  } else if (effect != "allow") {
    map.Error("effect", StrCat("expected allow or deny, got ", Quote(effect)));
    return;
  }
  std::optional<std::string> approval = map.String("approval");
  if (!approval || *approval == "none") return;
  if (*approval != "required") {
    map.Error("approval", StrCat("expected required or none, got ", Quote(*approval)));
  } else if (rule.effect == Effect::kDeny) {
    map.Error("approval", "only allow rules can require approval");
  } else {
    rule.approval_required = true;
  }
}

void ParseName(YamlMap& map, std::string_view zone, size_t index, Rule& rule) {
  rule.name = map.String("name").value_or("");
  rule.description = map.String("description").value_or("");
  if (!rule.name.empty() && !std::all_of(rule.name.begin(), rule.name.end(), IsNameChar)) {
    map.Error("name",
              StrCat("rule name ", Quote(rule.name), " may contain only a-z, 0-9, '-' and '_'"));
  }
  rule.id =
      rule.name.empty() ? StrCat(zone, "/resources[", index, "]") : StrCat(zone, "/", rule.name);
}

}  // namespace

std::string_view KindName(ResourceKind kind) { return InfoOf(kind).name; }

std::optional<ResourceKind> ParseKind(std::string_view name) {
  for (const KindInfo& info : Kinds()) {
    if (info.name == name) return info.kind;
  }
  return std::nullopt;
}

std::string_view ActionName(Action action) {
  static constexpr std::string_view kNames[] = {"read",   "write",  "list",
                                                "delete", "invoke", "call"};
  return kNames[static_cast<size_t>(action)];
}

std::optional<Action> ParseAction(ResourceKind kind, std::string_view name) {
  for (Action a : InfoOf(kind).actions) {
    if (ActionName(a) == name) return a;
  }
  return std::nullopt;
}

std::string ActionVocabulary(ResourceKind kind) {
  std::string out;
  for (Action a : InfoOf(kind).actions) StrAppend(&out, out.empty() ? "" : ", ", ActionName(a));
  return out;
}

bool Rule::ConditionsHold(const RequestContext& context) const {
  for (const Condition& c : when) {
    auto it = context.find(c.key);
    if (it == context.end()) return false;
    if (std::find(c.values.begin(), c.values.end(), it->second) == c.values.end()) return false;
  }
  return true;
}

std::string Rule::ToString() const {
  std::string out = StrCat(effect == Effect::kDeny ? "deny " : "allow ", KindName(kind), ":",
                           pattern.text(), " [");
  bool first = true;
  for (Action a : InfoOf(kind).actions) {
    if (!Covers(a)) continue;
    StrAppend(&out, first ? "" : ", ", ActionName(a));
    first = false;
  }
  out += "]";
  for (size_t i = 0; i < when.size(); ++i) {
    StrAppend(&out, i == 0 ? " when " : " and ", when[i].key, "=");
    for (size_t j = 0; j < when[i].values.size(); ++j) {
      StrAppend(&out, j == 0 ? "" : "|", when[i].values[j]);
    }
  }
  out += DelegationConditionsText(delegation);
  if (approval_required) out += " (approval required)";
  return out;
}

Rule ParseRule(YamlMap& map, const YAML::Node& raw, std::string_view zone, size_t index) {
  Rule rule;
  rule.location = SourceLocation::FromMark(map.errors()->file(),
                                           raw.IsDefined() ? raw.Mark() : YAML::Mark::null_mark());
  ParseName(map, zone, index, rule);
  ParseResource(map, rule);
  ParseActions(map, raw, rule);
  ParseWhen(map, raw, rule);
  ParseEffectAndApproval(map, rule);
  ParseDelegationConditions(map, raw, rule);
  map.RejectUnknownKeys();
  return rule;
}

}  // namespace spinel::zones
