// RFC 3339 timestamps as Spinel prints them: UTC, "Z" suffix, e.g. "2026-01-31T12:00:00Z"
// (CLI output, approval messages, the examples) or "2026-01-31T12:00:00.123Z" (log lines).
// Times are rounded down (toward the past) to the printed precision. Pure functions: any thread.
#pragma once

#include <cstdint>
#include <string>

#include "common/clock.h"

namespace spinel::common {

// "2026-01-31T12:00:00Z": `t` in whole seconds.
std::string FormatRfc3339(TimePoint t);
// The same for a count of seconds since the Unix epoch (the unit of the wire protocols). A time
// the C library cannot break down (a year beyond the range of int) prints as the decimal count.
std::string FormatRfc3339(int64_t unix_seconds);
// "2026-01-31T12:00:00.123Z": `t` in whole milliseconds.
std::string FormatRfc3339Millis(TimePoint t);

}  // namespace spinel::common
