#include "trust-zones/ttl_yaml.h"

#include "common/duration.h"
#include "common/strings.h"
#include "trust-zones/raw_yaml.h"

namespace spinel::zones::internal {

using common::StrCat;
using common::YamlMap;

TtlLimit ParseTtl(YamlMap& map, const YAML::Node& root, std::string_view key) {
  TtlLimit ttl;
  const YAML::Node raw = RawChild(root, key);
  if (!raw.IsDefined() || raw.IsNull()) {
    map.Duration(key);  // records the key as known
    map.Error(key, "missing required key");
  } else if (raw.IsScalar()) {
    ttl.default_ttl = ttl.max_ttl = map.Duration(key).value_or(std::chrono::milliseconds(0));
  } else {
    YamlMap sub = map.Map(key);
    std::optional<std::chrono::milliseconds> def = sub.Duration("default");
    std::optional<std::chrono::milliseconds> max = sub.Duration("max");
    sub.RejectUnknownKeys();
    if (!def && map.errors()->ok()) sub.Error("default", "missing required key");
    if (!max && map.errors()->ok()) sub.Error("max", "missing required key");
    if (!map.errors()->ok()) return ttl;
    ttl = {*def, *max};
    if (*def > *max) {
      sub.Error("default", StrCat("default ", common::FormatDuration(*def), " is longer than max ",
                                  common::FormatDuration(*max)));
    }
  }
  return ttl;
}

std::optional<TtlLimit> ParseOptionalTtl(YamlMap& map, const YAML::Node& root,
                                         std::string_view key) {
  const YAML::Node raw = RawChild(root, key);
  if (!raw.IsDefined() || raw.IsNull()) {
    map.Duration(key);  // records the key as known
    return std::nullopt;
  }
  return ParseTtl(map, root, key);
}

}  // namespace spinel::zones::internal
