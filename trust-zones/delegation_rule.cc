#include "trust-zones/delegation_rule.h"

#include <algorithm>

#include "common/delegation_token.h"
#include "common/strings.h"
#include "trust-zones/condition_yaml.h"
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

void ParseOnBehalfOf(YamlMap& map, const YAML::Node& raw, Rule& rule) {
  const YAML::Node node = RawChild(raw, "on_behalf_of");
  if (!node.IsDefined() || node.IsNull()) {
    map.String("on_behalf_of");  // records the key as known
    return;
  }
  rule.delegation.requires_user = true;
  if (node.IsScalar()) {
    const std::string text = map.String("on_behalf_of").value_or("");
    if (text != "any") {
      map.Error("on_behalf_of", StrCat("expected `any` or a mapping of user claims to values, "
                                       "got ",
                                       Quote(text)));
    }
    return;
  }
  map.Map("on_behalf_of");  // checks it is a mapping without duplicate keys
  if (!map.errors()->ok()) return;
  if (!ParseConditions(map, "on_behalf_of", node, "claim name must not be empty",
                       rule.delegation.on_behalf_of)) {
    return;
  }
  if (rule.delegation.on_behalf_of.empty()) {
    map.Error("on_behalf_of", "an empty mapping; write `on_behalf_of: any` for any user");
  }
}

void ParseVia(YamlMap& map, const YAML::Node& raw, Rule& rule) {
  const bool present = map.Has("via");
  const std::vector<std::string> patterns = map.StringList("via");
  if (!present || !map.errors()->ok()) return;
  rule.delegation.requires_user = true;
  if (patterns.empty()) map.Error("via", "must list at least one actor pattern");
  for (size_t i = 0; i < patterns.size() && map.errors()->ok(); ++i) {
    absl::StatusOr<Pattern> pattern = Pattern::Compile(patterns[i]);
    if (!pattern.ok()) {
      map.errors()->Add(RawItem(RawChild(raw, "via"), i), map.PathOf("via"),
                        std::string(pattern.status().message()));
      return;
    }
    rule.delegation.via.push_back(*std::move(pattern));
  }
}

void ParseMaxChain(YamlMap& map, Rule& rule) {
  std::optional<int64_t> max_chain =
      map.Int("max_chain", 1, static_cast<int64_t>(common::kMaxDelegationChain));
  if (!max_chain) return;
  rule.delegation.requires_user = true;
  rule.delegation.max_chain = static_cast<size_t>(*max_chain);
}

std::string ClaimMismatch(const Condition& condition, const DelegationContext& delegation) {
  std::vector<std::string> subject;
  const std::vector<std::string>* values = nullptr;
  if (condition.key == "sub") {
    subject.push_back(delegation.user);
    values = &subject;
  } else if (auto it = delegation.claims.find(condition.key); it != delegation.claims.end()) {
    values = &it->second;
  }
  if (values != nullptr) {
    for (const std::string& value : *values) {
      if (std::find(condition.values.begin(), condition.values.end(), value) !=
          condition.values.end()) {
        return "";
      }
    }
  }
  std::string wanted;
  for (const std::string& v : condition.values) StrAppend(&wanted, wanted.empty() ? "" : "|", v);
  if (values == nullptr) {
    return StrCat("user ", Quote(delegation.user), " has no ", condition.key,
                  " claim (the rule requires ", condition.key, "=", wanted, ")");
  }
  return StrCat("user ", Quote(delegation.user), "'s ", condition.key, " is not one of ", wanted);
}

bool MatchesAny(const std::vector<Pattern>& patterns, std::string_view name) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const Pattern& p) { return p.Matches(name); });
}

}  // namespace

void ParseDelegationConditions(YamlMap& map, const YAML::Node& raw, Rule& rule) {
  ParseOnBehalfOf(map, raw, rule);
  ParseVia(map, raw, rule);
  ParseMaxChain(map, rule);
}

std::string DelegationMismatch(const DelegationConditions& conditions,
                               const DelegationContext* delegation) {
  if (!conditions.requires_user) return "";
  if (delegation == nullptr) return "requires a user (on whose behalf) and the request has none";
  for (const Condition& condition : conditions.on_behalf_of) {
    std::string why = ClaimMismatch(condition, *delegation);
    if (!why.empty()) return why;
  }
  if (conditions.max_chain && delegation->actors.size() > *conditions.max_chain) {
    return StrCat("the chain has ", delegation->actors.size(), " actors, more than max_chain ",
                  *conditions.max_chain);
  }
  if (!conditions.via.empty()) {
    for (const DelegationActor& actor : delegation->actors) {
      if (!MatchesAny(conditions.via, actor.name)) {
        return StrCat("actor ", Quote(actor.name), " matches none of the rule's via patterns");
      }
    }
  }
  return "";
}

std::string DelegationConditionsText(const DelegationConditions& conditions) {
  if (!conditions.requires_user) return "";
  std::string out = " on behalf of ";
  if (conditions.on_behalf_of.empty()) out += "any user";
  for (size_t i = 0; i < conditions.on_behalf_of.size(); ++i) {
    const Condition& c = conditions.on_behalf_of[i];
    StrAppend(&out, i == 0 ? "" : " and ", c.key, "=");
    for (size_t j = 0; j < c.values.size(); ++j) StrAppend(&out, j == 0 ? "" : "|", c.values[j]);
  }
  for (size_t i = 0; i < conditions.via.size(); ++i) {
    StrAppend(&out, i == 0 ? " via " : "|", conditions.via[i].text());
  }
  if (conditions.max_chain) StrAppend(&out, " max chain ", *conditions.max_chain);
  return out;
}

}  // namespace spinel::zones
