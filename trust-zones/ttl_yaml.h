// Internal: reading a zone file lifetime, written as a bare duration (default = max) or as
// {default: D, max: M} with default <= max. Shared by the SVID lifetimes and the delegation
// token lifetime.
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string_view>

#include "common/yaml_reader.h"
#include "trust-zones/zone.h"

namespace spinel::zones::internal {

// Reads `key` of `map` (whose raw node is `raw`). A missing key is an error; problems are
// recorded in map.errors() naming the key and line.
TtlLimit ParseTtl(common::YamlMap& map, const YAML::Node& raw, std::string_view key);
// The same for an optional key: nullopt when `key` is absent (or null).
std::optional<TtlLimit> ParseOptionalTtl(common::YamlMap& map, const YAML::Node& raw,
                                         std::string_view key);

}  // namespace spinel::zones::internal
