#include "common/config_sections.h"

#include <filesystem>

namespace spinel::common {

std::string ResolveConfigPath(const std::string& base_dir, const std::string& path) {
  if (path.empty() || path.front() == '/' || base_dir.empty()) return path;
  return (std::filesystem::path(base_dir) / path).lexically_normal().string();
}

void ReadLogSection(YamlMap log, LogLevel* level, LogFormat* format) {
  if (auto text = log.String("level")) {
    auto parsed = ParseLogLevel(*text);
    if (parsed.ok())
      *level = *parsed;
    else
      log.Error("level", std::string(parsed.status().message()));
  }
  if (auto text = log.String("format")) {
    auto parsed = ParseLogFormat(*text);
    if (parsed.ok())
      *format = *parsed;
    else
      log.Error("format", std::string(parsed.status().message()));
  }
  log.RejectUnknownKeys();
}

}  // namespace spinel::common
