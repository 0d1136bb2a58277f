// Exit codes of the real spinel-server and spinel-agent binaries for usage errors (documented at
// the top of server/main.cc and agent/main.cc): 2 with "error: <problem>" on stderr for bad
// usage and bad config files, 0 with the help text for --help.
#include <doctest/doctest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "tests/integration/process_util.h"

using spinel::testing::BuildDir;
using spinel::testing::CommandResult;
using spinel::testing::RunCommand;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

struct Case {
  std::string args;
  int exit_code;
  std::string out;  // expected in stdout ("" for none)
  std::string err;  // expected in stderr ("" for none)
};

void CheckCases(const std::string& binary, const std::vector<Case>& cases) {
  REQUIRE_MESSAGE(::access(binary.c_str(), X_OK) == 0, binary << " is not built");
  for (const Case& c : cases) {
    CAPTURE(c.args);
    CommandResult result = RunCommand(ShellQuote(binary) + " " + c.args);
    CHECK_MESSAGE(result.exit_code == c.exit_code, result.Describe());
    CHECK_MESSAGE(Contains(result.out, c.out), result.Describe());
    CHECK_MESSAGE(Contains(result.err, c.err), result.Describe());
  }
}

}  // namespace

TEST_CASE("spinel-server: usage errors exit 2, --help exits 0") {
  TempDir dir;
  dir.Write("bad.yaml", "trust_domain: spinel.test\ndata_dir: d\nzones_dir: z\nbogus: 1\n");
  const std::string socket = "--socket " + ShellQuote(dir.File("none.sock"));
  CheckCases(BuildDir() + "/server/spinel-server",
             {
                 {"", 2, "", "error: A subcommand is required"},
                 {"frobnicate", 2, "", "error: "},
                 {"--no-such-flag", 2, "", "error: "},
                 {"run", 2, "", "error: --config is required"},
                 {"run --config " + ShellQuote(dir.File("missing.yaml")), 2, "",
                  "cannot read config file"},
                 {"run --config " + ShellQuote(dir.File("bad.yaml")), 2, "", "bad.yaml:4:1: bogus"},
                 {"entry create --no-such-flag " + socket, 2, "", "error: "},
                 {"entry show --id", 2, "", "error: "},
                 {"token generate --ttl soon " + socket, 2, "", "error: --ttl"},
                 {"--help", 0, "Usage", ""},
                 {"entry create --help", 0, "--spiffe-id", ""},
                 {"healthcheck " + socket, 1, "", "UNAVAILABLE"},
             });
}

TEST_CASE("spinel-agent: usage errors exit 2, --help exits 0") {
  TempDir dir;
  CheckCases(BuildDir() + "/agent/spinel-agent",
             {
                 {"", 2, "", "error: A subcommand is required"},
                 {"frobnicate", 2, "", "error: "},
                 {"run", 2, "", "error: --config is required"},
                 {"run --config " + ShellQuote(dir.File("missing.yaml")), 2, "", "missing.yaml"},
                 {"api fetch x509 --no-such-flag", 2, "", "error: "},
                 {"--help", 0, "Usage", ""},
                 {"api --help", 0, "fetch", ""},
             });
}
