// Running a Python script for an interop test: the other implementation (Debian's python3-jwt,
// python3-cryptography) checks or makes tokens and certificates in a TempDir and reports back
// in "name value" lines. Always Debian's /usr/bin/python3, whose packages scripts/setup.sh
// installs, never whichever python3 comes first on PATH. Failures abort the current doctest
// case (REQUIRE); not thread-safe beyond what doctest allows.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <sstream>
#include <string>
#include <string_view>

#include "tests/fakes/temp_dir.h"

namespace spinel::testing {

inline constexpr char kPython[] = "/usr/bin/python3";

// Whether kPython can import `modules` (e.g. "jwt, cryptography"); the caller skips when not.
inline bool PythonCanImport(const TempDir& dir, std::string_view modules) {
  return Run(dir, std::string(kPython) + " -c 'import " + std::string(modules) + "'").exit_code ==
         0;
}

// The "name value" lines of `output` (the value is the rest of the line after the first
// space); lines without a space are ignored, and a later name replaces an earlier one.
inline std::map<std::string, std::string> ParseNameValueLines(const std::string& output) {
  std::map<std::string, std::string> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    const size_t space = line.find(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = line.substr(space + 1);
  }
  return out;
}

struct PythonRun {
  std::string output;                         // stdout and stderr, interleaved
  std::map<std::string, std::string> values;  // its "name value" lines
};

// Writes `script` to `file` in `dir` and runs it there with kPython; REQUIREs exit code 0
// (showing the output when it is not).
inline PythonRun RunPythonScript(const TempDir& dir, std::string_view file,
                                 std::string_view script) {
  dir.Write(file, script);
  RunResult r = Run(dir, std::string(kPython) + " " + std::string(file));
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  return {r.output, ParseNameValueLines(r.output)};
}

}  // namespace spinel::testing
