// Running shell commands from tests and benchmarks, and reading what they leave behind:
//   - ShellQuote(): 'text' for /bin/sh;
//   - RunShellCommand(): run a command with /bin/sh, capturing stdout, stderr and the exit code;
//   - ReadWholeFile(): a file's content ("" when it cannot be read), e.g. a child's log.
// No doctest assertions and no shared state: callable from any thread, by tests (which wrap
// them with REQUIREs, tests/integration/process_util.h) and benchmarks (bench/support/) alike.
#pragma once

#include <string>
#include <string_view>

namespace spinel::testing {

// 'text' for /bin/sh, with embedded single quotes escaped.
std::string ShellQuote(std::string_view text);

// The content of `path`; "" when it does not exist or cannot be read.
std::string ReadWholeFile(const std::string& path);

struct CommandResult {
  bool ran = false;    // false: /bin/sh could not be started at all (`err` says why)
  int exit_code = -1;  // -1 when the command did not exit normally (or did not run)
  std::string out;     // stdout
  std::string err;     // stderr
  // "exit N", stdout and stderr, for failure messages.
  std::string Describe() const;
};

// Runs `command` with /bin/sh; stdin is /dev/null; stderr goes through a temp file.
CommandResult RunShellCommand(const std::string& command);

}  // namespace spinel::testing
