// Structured logging to stderr for the Spinel binaries.
//
//   LOG_INFO("agent attested", {{"agent_id", id}, {"method", "join_token"}});
//
// Text format: `2026-11-26T06:33:09.491Z INFO  agent attested agent_id=spiffe://... method=...`;
// JSON format: one object per line with time, level, msg and the fields. Values are quoted when
// they contain spaces or quotes. Callers must never pass secrets (private keys, tokens) as
// fields; `Redacted()` exists for the places that want to show a secret was present.
// Thread-safe: each line is written with one call under a mutex.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace spinel::common {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };
enum class LogFormat { kText, kJson };

using LogFields = std::vector<std::pair<std::string, std::string>>;

// Parses "debug", "info", "warn", "error" / "text", "json".
absl::StatusOr<LogLevel> ParseLogLevel(std::string_view text);
absl::StatusOr<LogFormat> ParseLogFormat(std::string_view text);

// Process-wide settings; defaults are info and text.
void SetLogLevel(LogLevel level);
void SetLogFormat(LogFormat format);
bool LogEnabled(LogLevel level);

void Log(LogLevel level, std::string_view message, const LogFields& fields = {});

inline std::string Redacted() { return "[redacted]"; }

}  // namespace spinel::common

#define LOG_DEBUG(...) ::spinel::common::Log(::spinel::common::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) ::spinel::common::Log(::spinel::common::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARN(...) ::spinel::common::Log(::spinel::common::LogLevel::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) ::spinel::common::Log(::spinel::common::LogLevel::kError, __VA_ARGS__)
