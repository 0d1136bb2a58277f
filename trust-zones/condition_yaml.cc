#include "trust-zones/condition_yaml.h"

#include <string>
#include <utility>

#include "common/strings.h"

namespace spinel::zones::internal {
namespace {

// One entry's value: a single scalar or a non-empty list of scalars.
bool ParseConditionValues(const YAML::Node& value, Condition& condition) {
  if (value.IsScalar()) {
    condition.values.push_back(value.Scalar());
    return true;
  }
  if (!value.IsSequence() || value.size() == 0) return false;
  for (const auto& item : value) {
    if (!item.IsScalar()) return false;
    condition.values.push_back(item.Scalar());
  }
  return true;
}

}  // namespace

bool ParseConditions(common::YamlMap& map, std::string_view key, const YAML::Node& node,
                     std::string_view empty_key_problem, std::vector<Condition>& out) {
  if (!node.IsDefined() || !node.IsMap()) return true;
  for (const auto& kv : node) {
    Condition condition;
    condition.key = kv.first.Scalar();
    const std::string path = common::StrCat(map.PathOf(key), ".", condition.key);
    if (condition.key.empty()) {
      map.errors()->Add(kv.first, path, empty_key_problem);
      return false;
    }
    if (!ParseConditionValues(kv.second, condition)) {
      map.errors()->Add(kv.second, path, "expected a value or a non-empty list of values");
      return false;
    }
    out.push_back(std::move(condition));
  }
  return true;
}

}  // namespace spinel::zones::internal
