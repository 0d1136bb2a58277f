#include "common/duration.h"

#include <array>
#include <limits>

#include "common/strings.h"

namespace spinel::common {
namespace {

struct Unit {
  std::string_view name;
  int64_t millis;
};
// Largest first: units must appear in this order, each at most once.
constexpr std::array<Unit, 4> kUnits = {{{"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};

absl::Status DurationError(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(StrCat("invalid duration ", Quote(text), ": ", why,
                                           " (expected e.g. 90s, 5m, 1h30m, 250ms)"));
}

// Reads the unit at `pos`; "ms" must win over "m".
int MatchUnit(std::string_view text, size_t pos, size_t* len) {
  for (int i = static_cast<int>(kUnits.size()) - 1; i >= 0; --i) {
    std::string_view name = kUnits[i].name;
    if (text.substr(pos, name.size()) == name && (name != "m" || text.substr(pos, 2) != "ms")) {
      *len = name.size();
      return i;
    }
  }
  return -1;
}

}  // namespace

absl::StatusOr<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  if (text.empty()) return DurationError(text, "empty");
  int64_t total = 0;
  int last_unit = -1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t digits_start = pos;
    int64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (value > (std::numeric_limits<int64_t>::max() - 9) / 10) {
        return DurationError(text, "too large");
      }
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == digits_start) return DurationError(text, "expected a number");
    size_t unit_len = 0;
    int unit = MatchUnit(text, pos, &unit_len);
    if (unit < 0) return DurationError(text, "missing or unknown unit");
    if (unit <= last_unit) return DurationError(text, "units must be in order h, m, s, ms");
    if (value > (std::numeric_limits<int64_t>::max() - total) / kUnits[unit].millis) {
      return DurationError(text, "too large");
    }
    total += value * kUnits[unit].millis;
    last_unit = unit;
    pos += unit_len;
  }
  return std::chrono::milliseconds(total);
}

std::string FormatDuration(std::chrono::milliseconds d) {
  int64_t rest = d.count();
  if (rest == 0) return "0s";
  std::string out;
  if (rest < 0) {
    out = "-";
    rest = -rest;
  }
  for (const Unit& unit : kUnits) {
    if (rest >= unit.millis) {
      StrAppend(&out, rest / unit.millis, unit.name);
      rest %= unit.millis;
    }
  }
  return out;
}

}  // namespace spinel::common
