// `cmake --install` of the real build tree into a temporary prefix (cmake/install.cmake): the
// binaries, example configs that load as they are, the shipped zones, and hardened systemd
// units and users for both services.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <string>

#include "agent/config.h"
#include "server/config.h"
#include "tests/integration/process_util.h"
#include "trust-zones/zone_loader.h"

using spinel::testing::BuildDir;
using spinel::testing::CommandResult;
using spinel::testing::ReadWholeFile;
using spinel::testing::RunCommand;
using spinel::testing::ShellQuote;
using spinel::testing::TempDir;

namespace {

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

bool IsExecutable(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) && (info.st_mode & 0111) != 0;
}

void Install(const std::string& prefix, const std::string& component = "") {
  CommandResult result =
      RunCommand("cmake --install " + ShellQuote(BuildDir()) + " --prefix " + ShellQuote(prefix) +
                 (component.empty() ? "" : " --component " + component));
  REQUIRE_MESSAGE(result.exit_code == 0, result.Describe());
}

// The hardening every unit must carry.
void CheckHardened(const std::string& unit, const std::string& name) {
  CAPTURE(name);
  for (const char* line : {"NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes",
                           "ProtectKernelModules=yes", "RestrictNamespaces=yes"}) {
    CHECK_MESSAGE(Contains(unit, std::string("\n") + line + "\n"), line);
  }
  CHECK(Contains(unit, "\nUser=" + name + "\n"));
  CHECK(Contains(unit, "\nStateDirectory=spinel/" + name.substr(7) + "\n"));
  CHECK(Contains(unit, "\nRuntimeDirectory=spinel/" + name.substr(7) + "\n"));
  CHECK_FALSE(Contains(unit, "@SPINEL"));
}

}  // namespace

TEST_CASE("install: binaries, configs that load, zones and hardened units under the prefix") {
  TempDir dir;
  const std::string prefix = dir.File("prefix");
  Install(prefix);
  const std::string etc = prefix + "/etc/spinel";

  CHECK(IsExecutable(prefix + "/bin/spinel-server"));
  CHECK(IsExecutable(prefix + "/bin/spinel-agent"));

  auto server = spinel::server::LoadServerConfig(etc + "/server.yaml");
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  CHECK(server->zones_dir == etc + "/zones");
  CHECK(server->data_dir == "/var/lib/spinel/server");
  CHECK(server->admin_socket == "/var/lib/spinel/server/admin.sock");  // the CLI's default
  auto zones = spinel::zones::LoadZoneDir(server->zones_dir);
  REQUIRE_MESSAGE(zones.ok(), zones.status().ToString());
  CHECK(zones->zones().size() == 4);

  auto agent = spinel::agent::LoadAgentConfig(etc + "/agent.yaml");
  REQUIRE_MESSAGE(agent.ok(), agent.status().ToString());
  CHECK(agent->socket_path == "/run/spinel/agent/workload.sock");  // the CLI's default
  CHECK(agent->trust_domain.name() == server->trust_domain.name());
  CHECK(agent->server_address == server->agent_api_address);
  CHECK(agent->join_token_file == etc + "/join-token");

  const std::string units = prefix + "/lib/systemd/system/";
  std::string server_unit = ReadWholeFile(units + "spinel-server.service");
  std::string agent_unit = ReadWholeFile(units + "spinel-agent.service");
  CheckHardened(server_unit, "spinel-server");
  CheckHardened(agent_unit, "spinel-agent");
  CHECK(Contains(server_unit, "\nExecStart=" + prefix + "/bin/spinel-server run --config " + etc +
                                  "/server.yaml\n"));
  CHECK(Contains(agent_unit, "\nExecStart=" + prefix + "/bin/spinel-agent run --config " + etc +
                                 "/agent.yaml\n"));
  CHECK(Contains(server_unit, "\nCapabilityBoundingSet=\n"));  // the server needs none
  CHECK(Contains(ReadWholeFile(prefix + "/lib/sysusers.d/spinel-server.conf"), "u spinel-server "));
  CHECK(Contains(ReadWholeFile(prefix + "/lib/sysusers.d/spinel-agent.conf"), "u spinel-agent "));
}

TEST_CASE("install: components install only their own files") {
  TempDir dir;
  const std::string prefix = dir.File("agent-only");
  Install(prefix, "agent");
  CHECK(IsExecutable(prefix + "/bin/spinel-agent"));
  CHECK(::access((prefix + "/etc/spinel/agent.yaml").c_str(), F_OK) == 0);
  CHECK(::access((prefix + "/bin/spinel-server").c_str(), F_OK) != 0);
  CHECK(::access((prefix + "/etc/spinel/server.yaml").c_str(), F_OK) != 0);
  CHECK(::access((prefix + "/etc/spinel/zones").c_str(), F_OK) != 0);
}

TEST_CASE("install: the units pass systemd-analyze verify") {
  CommandResult which = RunCommand("command -v systemd-analyze");
  if (which.exit_code != 0) {
    MESSAGE("systemd-analyze is not installed; unit syntax not verified");
    return;
  }
  TempDir dir;
  const std::string prefix = dir.File("prefix");
  Install(prefix);
  for (const char* unit : {"spinel-server.service", "spinel-agent.service"}) {
    CAPTURE(unit);
    CommandResult verified = RunCommand("systemd-analyze verify --man=no " +
                                        ShellQuote(prefix + "/lib/systemd/system/" + unit));
    // Unknown keys and bad values are reported as "Unknown key name" / "Failed to parse".
    CHECK_FALSE_MESSAGE(Contains(verified.err, "Unknown key"), verified.Describe());
    CHECK_FALSE_MESSAGE(Contains(verified.err, "Failed to parse"), verified.Describe());
  }
}
