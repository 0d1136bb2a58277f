// Internal: position lookups on raw yaml-cpp nodes that never throw. yaml-cpp's operator[]
// returns an invalid "zombie" node for a missing key, and asking a zombie for its type or mark
// throws; these helpers return an undefined (but valid) node instead.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string_view>

namespace spinel::zones::internal {

// The value of `key` in mapping `node`, or an undefined node.
inline YAML::Node RawChild(const YAML::Node& node, std::string_view key) {
  if (!node.IsDefined() || !node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& kv : node) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

// Item `index` of sequence `node`, or an undefined node.
inline YAML::Node RawItem(const YAML::Node& node, size_t index) {
  if (!node.IsDefined() || !node.IsSequence() || index >= node.size()) {
    return YAML::Node(YAML::NodeType::Undefined);
  }
  return node[index];
}

}  // namespace spinel::zones::internal
