// Pieces shared by the server and agent config readers: resolving relative paths against the
// config file's directory, and the `log:` section (level, format).
#pragma once

#include <string>

#include "common/log.h"
#include "common/yaml_reader.h"

namespace spinel::common {

// `path` unchanged when empty or absolute, else resolved against `base_dir`.
std::string ResolveConfigPath(const std::string& base_dir, const std::string& path);

// Reads `log: {level, format}` into the two outputs (left as they are when absent); bad values
// and unknown keys are recorded in the map's errors.
void ReadLogSection(YamlMap log, LogLevel* level, LogFormat* format);

}  // namespace spinel::common
