#include "common/rfc3339.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace spinel::common {
namespace {

// "YYYY-MM-DDTHH:MM:SS" then `fraction` (e.g. ".123" or ""), then "Z".
std::string Format(int64_t unix_seconds, const char* fraction) {
  const std::time_t seconds = static_cast<std::time_t>(unix_seconds);
  std::tm parts{};
  if (gmtime_r(&seconds, &parts) == nullptr) return std::to_string(unix_seconds);
  char text[64];
  std::snprintf(text, sizeof(text), "%04lld-%02d-%02dT%02d:%02d:%02d%sZ",
                static_cast<long long>(parts.tm_year) + 1900, parts.tm_mon + 1, parts.tm_mday,
                parts.tm_hour, parts.tm_min, parts.tm_sec, fraction);
  return text;
}

}  // namespace

std::string FormatRfc3339(TimePoint t) {
  return Format(std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count(), "");
}

std::string FormatRfc3339(int64_t unix_seconds) { return Format(unix_seconds, ""); }

std::string FormatRfc3339Millis(TimePoint t) {
  const auto millis = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch());
  const auto seconds = std::chrono::floor<std::chrono::seconds>(millis);
  char fraction[8];
  std::snprintf(fraction, sizeof(fraction), ".%03d", static_cast<int>((millis - seconds).count()));
  return Format(seconds.count(), fraction);
}

}  // namespace spinel::common
