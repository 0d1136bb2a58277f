// scripts/package.sh on the real build tree: two Debian packages, spinel-server and
// spinel-agent, checked with dpkg-deb (-I control fields and maintainer scripts, -c contents,
// and the configured files inside).
#include <doctest/doctest.h>

#include <string>

#include "tests/integration/process_util.h"

using spinel::testing::BuildDir;
using spinel::testing::CommandResult;
using spinel::testing::RunCommand;
using spinel::testing::ShellQuote;
using spinel::testing::SourceDir;
using spinel::testing::TempDir;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

CommandResult Run(const std::string& command) {
  CommandResult result = RunCommand(command);
  REQUIRE_MESSAGE(result.exit_code == 0, command << "\n" << result.Describe());
  return result;
}

// The text of `path` inside the package.
std::string Extract(const std::string& deb, const std::string& path) {
  return Run("dpkg-deb --fsys-tarfile " + ShellQuote(deb) + " | tar -xOf - ." + path).out;
}

}  // namespace

TEST_CASE("package: spinel-server and spinel-agent Debian packages with the right contents") {
  TempDir dir;
  CommandResult built =
      Run(ShellQuote(SourceDir() + "/scripts/package.sh") + " --no-build" + " --build-dir " +
          ShellQuote(BuildDir()) + " --output " + ShellQuote(dir.path()));
  const std::string server_deb = Run("ls " + dir.path() + "/spinel-server_*.deb").out;
  const std::string agent_deb = Run("ls " + dir.path() + "/spinel-agent_*.deb").out;
  const std::string server = server_deb.substr(0, server_deb.find('\n'));
  const std::string agent = agent_deb.substr(0, agent_deb.find('\n'));
  CHECK(Contains(built.out, server));
  CHECK(Contains(built.out, agent));

  std::string info = Run("dpkg-deb -I " + ShellQuote(server)).out;
  CHECK_MESSAGE(Contains(info, "Package: spinel-server"), info);
  CHECK_MESSAGE(Contains(info, "libgrpc"), info);  // shlibdeps found the shared libraries
  CHECK(Contains(info, "adduser"));
  CHECK(Contains(info, " postinst"));
  CHECK(Contains(info, " conffiles"));
  std::string contents = Run("dpkg-deb -c " + ShellQuote(server)).out;
  for (const char* path :
       {"./usr/bin/spinel-server", "./etc/spinel/server.yaml", "./etc/spinel/zones/inference.yaml",
        "./etc/spinel/zones/training.yaml", "./etc/spinel/zones/retrieval.yaml",
        "./etc/spinel/zones/tool-execution.yaml", "./etc/spinel/zones/demo-users.jwks.json",
        "./usr/lib/systemd/system/spinel-server.service",
        "./usr/lib/sysusers.d/spinel-server.conf"}) {
    CHECK_MESSAGE(Contains(contents, std::string(path) + "\n"), path << " missing:\n" << contents);
  }
  CHECK_FALSE(Contains(contents, "spinel-agent"));
  CHECK(Contains(Run("dpkg-deb -f " + ShellQuote(server) + " Package").out, "spinel-server"));
  CHECK(Contains(
      Run("dpkg-deb --ctrl-tarfile " + ShellQuote(server) + " | tar -xOf - ./conffiles").out,
      "/etc/spinel/zones/tool-execution.yaml"));
  CHECK(Contains(Extract(server, "/etc/spinel/server.yaml"), "zones_dir: /etc/spinel/zones\n"));
  CHECK(Contains(Extract(server, "/usr/lib/systemd/system/spinel-server.service"),
                 "ExecStart=/usr/bin/spinel-server run --config /etc/spinel/server.yaml\n"));

  info = Run("dpkg-deb -I " + ShellQuote(agent)).out;
  CHECK_MESSAGE(Contains(info, "Package: spinel-agent"), info);
  contents = Run("dpkg-deb -c " + ShellQuote(agent)).out;
  for (const char* path : {"./usr/bin/spinel-agent", "./etc/spinel/agent.yaml",
                           "./usr/lib/systemd/system/spinel-agent.service",
                           "./usr/lib/sysusers.d/spinel-agent.conf"}) {
    CHECK_MESSAGE(Contains(contents, std::string(path) + "\n"), path << " missing:\n" << contents);
  }
  CHECK_FALSE(Contains(contents, "spinel-server"));
  CHECK_FALSE(Contains(contents, "zones/"));
  std::string unit = Extract(agent, "/usr/lib/systemd/system/spinel-agent.service");
  CHECK(Contains(unit, "ExecStart=/usr/bin/spinel-agent run --config /etc/spinel/agent.yaml\n"));
  CHECK(Contains(unit, "RuntimeDirectory=spinel/agent\n"));
}
