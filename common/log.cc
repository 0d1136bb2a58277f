#include "common/log.h"

#include <atomic>
#include <chrono>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "common/mutex.h"
#include "common/rfc3339.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

std::atomic<LogLevel> g_level{LogLevel::kInfo};
std::atomic<LogFormat> g_format{LogFormat::kText};
Mutex g_write_mutex;  // held while a line is written: lines never interleave

std::string_view LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarn:
      return "WARN";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

std::string NowRfc3339() { return FormatRfc3339Millis(std::chrono::system_clock::now()); }

std::string TextValue(std::string_view value) {
  bool plain = !value.empty();
  for (char c : value) {
    if (c <= ' ' || c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f) plain = false;
  }
  return plain ? std::string(value) : Quote(value, 4096);
}

std::string FormatLine(LogLevel level, std::string_view message, const LogFields& fields) {
  if (g_format.load() == LogFormat::kJson) {
    nlohmann::json line = {
        {"time", NowRfc3339()}, {"level", LevelName(level)}, {"msg", std::string(message)}};
    for (const auto& [key, value] : fields) line[key] = value;
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string out = StrCat(NowRfc3339(), " ", LevelName(level), " ", message);
  for (const auto& [key, value] : fields) StrAppend(&out, " ", key, "=", TextValue(value));
  out += "\n";
  return out;
}

}  // namespace

absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "info") return LogLevel::kInfo;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return absl::InvalidArgumentError(
      StrCat("invalid log level ", Quote(text), " (want debug, info, warn or error)"));
}

absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(
      StrCat("invalid log format ", Quote(text), " (want text or json)"));
}

void SetLogLevel(LogLevel level) { g_level = level; }
void SetLogFormat(LogFormat format) { g_format = format; }
bool LogEnabled(LogLevel level) { return level >= g_level.load(); }

void Log(LogLevel level, std::string_view message, const LogFields& fields) {
  if (!LogEnabled(level)) return;
  std::string line = FormatLine(level, message, fields);
  MutexLock lock(g_write_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace spinel::common
