// Selectors: "type:value" facts about a node or workload (e.g. "unix:uid:1000",
// "k8s:pod-uid:1234"). The type is the part before the first colon and is made of lower-case
// letters, digits, '_' and '-'; the value is everything after it, may contain colons, and must
// be non-empty printable ASCII (no spaces or control characters).
#pragma once

#include <compare>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace spinel::common {

struct Selector {
  std::string type;
  std::string value;

  // Parses "type:value"; the error names the input and the rule broken.
  static absl::StatusOr<Selector> Parse(std::string_view text);
  std::string ToString() const { return type + ":" + value; }

  auto operator<=>(const Selector&) const = default;
};

// A sorted, de-duplicated set of selectors.
using SelectorSet = std::vector<Selector>;

// Sorts and removes duplicates in place.
void Normalize(SelectorSet& selectors);

// True when every selector of `required` is in `have` (both normalized). An empty `required`
// is a subset of everything.
bool IsSubset(const SelectorSet& required, const SelectorSet& have);

}  // namespace spinel::common
