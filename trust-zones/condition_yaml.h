// Internal: reading a mapping of conditions, each `key: value` or `key: [value, ...]`. Shared by
// a rule's `when` (request context keys) and its `on_behalf_of` (user claims).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>
#include <vector>

#include "common/yaml_reader.h"
#include "trust-zones/rule.h"

namespace spinel::zones::internal {

// Appends one Condition to `out` for each entry of the mapping `node`, the raw value of `key` in
// `map`, in file order. An entry's value is a single scalar or a non-empty list of scalars. The
// first bad entry is recorded in map.errors() (`empty_key_problem` for an empty key) and stops
// the reading; returns whether every entry was read. A `node` that is not a mapping reads as none.
bool ParseConditions(common::YamlMap& map, std::string_view key, const YAML::Node& node,
                     std::string_view empty_key_problem, std::vector<Condition>& out);

}  // namespace spinel::zones::internal
