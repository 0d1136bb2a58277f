// Durations as operators write them in configs, zone files and CLI flags: a sequence of
// <integer><unit> with units h, m, s, ms ("90s", "5m", "1h30m", "250ms"). Zero is "0s".
// Negative values, fractions, missing units and repeated or out-of-order units are errors.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace spinel::common {

// Parses `text`; the error names the offending text and what was expected.
absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text);

// The shortest canonical spelling, e.g. 5400s -> "1h30m", 1500ms -> "1s500ms", 0 -> "0s".
std::string FormatDuration(std::chrono::milliseconds d);

}  // namespace spinel::common
