// Where a zone file declared something, for error messages and `zone show`.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "common/strings.h"

namespace spinel::zones {

struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown

  static SourceLocation FromMark(std::string file, const YAML::Mark& mark) {
    if (mark.is_null()) return {std::move(file), 0, 0};
    return {std::move(file), mark.line + 1, mark.column + 1};
  }
  // "file:line:column", or just "file" when the position is unknown (the form
  // common::YamlErrors uses).
  std::string ToString() const {
    return line == 0 ? file : common::StrCat(file, ":", line, ":", column);
  }
};

}  // namespace spinel::zones
