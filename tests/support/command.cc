#include "tests/support/command.h"

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace spinel::testing {

std::string ShellQuote(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string CommandResult::Describe() const {
  return "exit " + std::to_string(exit_code) + "\nstdout:\n" + out + "\nstderr:\n" + err;
}

CommandResult RunShellCommand(const std::string& command) {
  CommandResult result;
  char err_path[] = "/tmp/spinel-stderr-XXXXXX";
  const int err_fd = ::mkstemp(err_path);
  if (err_fd < 0) {
    result.err = std::string("cannot run the command: mkstemp: ") + std::strerror(errno);
    return result;
  }
  ::close(err_fd);
  const std::string full = "(" + command + ") </dev/null 2>" + ShellQuote(err_path);
  FILE* pipe = ::popen(full.c_str(), "r");
  if (pipe == nullptr) {
    result.err = std::string("cannot run the command: popen: ") + std::strerror(errno);
    ::unlink(err_path);
    return result;
  }
  result.ran = true;
  char buf[4096];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof(buf), pipe)) > 0) result.out.append(buf, n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = ReadWholeFile(err_path);
  ::unlink(err_path);
  return result;
}

}  // namespace spinel::testing
