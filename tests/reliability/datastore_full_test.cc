// Fault: the datastore cannot grow — the running spinel-server's file size limit is lowered to
// 4 KiB with prlimit(2) (RLIMIT_FSIZE, as a full disk: every write past it fails with EFBIG;
// it needs no privilege CI lacks, unlike a loop device or tmpfs). Proves:
//   - the server is not killed (it ignores SIGXFSZ; before the fix it died of it);
//   - every write (entry create/update/delete, token generate, X.509 and JWT mints, which must
//     be audited) fails with exit 1 and `UNAVAILABLE` naming the SQLite database file;
//   - reads keep working and return exactly what was stored; the audit chain verifies;
//   - after the limit is lifted, writes work again; after a kill -9 and restart, everything
//     stored before and after the fault is there and the audit chain still verifies.
// The server's own log file is past the limit too, so it logs nothing during the fault.
#include <doctest/doctest.h>
#include <sys/resource.h>

#include <string>
#include <vector>

#include "tests/reliability/fault_util.h"

using nlohmann::json;
using spinel::testing::CommandResult;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;

namespace {

constexpr char kAgent[] = "spiffe://control.spinel.test/spinel/agent/join_token/disk-full";
constexpr char kModel[] = "spiffe://inference.ai.example.org/model-server";

std::string CreateArgs(const std::string& name) {
  return "entry create --spiffe-id spiffe://inference.ai.example.org/" + name + " --parent-id " +
         kAgent + " --selector unix:uid:4401 --output json";
}

// What reads return: entries, agents, bundles, audit events.
struct Stored {
  json entries;
  json audit;
  std::string bundle;
  std::string authorities;
  bool operator==(const Stored& other) const {
    return entries == other.entries && audit == other.audit && bundle == other.bundle &&
           authorities == other.authorities;
  }
};

Stored ReadAll(const ServerProcess& server) {
  Stored stored;
  stored.entries = ParseJsonOutput(server.Cli("entry show --output json"));
  stored.audit = ParseJsonOutput(server.Cli("audit list --output json"));
  CommandResult bundle = server.Cli("bundle show --trust-domain inference.ai.example.org");
  REQUIRE_MESSAGE(bundle.exit_code == 0, bundle.Describe());
  stored.bundle = bundle.out;
  stored.authorities = ParseJsonOutput(server.Cli("localauthority show --output json "
                                                  "--trust-domain inference.ai.example.org"))
                           .dump();
  return stored;
}

void CheckAuditIntact(const ServerProcess& server, size_t events) {
  CommandResult verified = server.Cli("audit verify");
  CHECK_MESSAGE(verified.exit_code == 0, verified.Describe());
  CHECK_MESSAGE(
      verified.out.find("intact: " + std::to_string(events) + " events") != std::string::npos,
      verified.out);
}

}  // namespace

TEST_CASE("fault: datastore cannot grow (file size limit, as a full disk)") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    json created = ParseJsonOutput(server.Cli(CreateArgs("before-" + std::to_string(i))));
    ids.push_back(created["results"][0]["entry"]["id"]);
  }
  REQUIRE(server.Cli(std::string("x509 mint --spiffe-id ") + kModel).exit_code == 0);
  REQUIRE(server.Cli("token generate --ttl 10m").exit_code == 0);
  const Stored before = ReadAll(server);
  REQUIRE(before.entries["entries"].size() == 3);
  CheckAuditIntact(server, 1);

  // --- the fault ------------------------------------------------------------------------------
  REQUIRE(spinel::testing::SetLimit(server.pid(), RLIMIT_FSIZE, 4096));
  const std::vector<std::string> writes = {
      CreateArgs("during"),
      "entry update --id " + ids[0] + " --x509-ttl 5m",
      "entry delete --id " + ids[1],
      "token generate --ttl 10m",
      std::string("x509 mint --spiffe-id ") + kModel,
      std::string("jwt mint --spiffe-id ") + kModel + " --audience db.example.org",
  };
  for (int round = 0; round < 2; ++round) {  // twice: a failed write leaves nothing behind
    for (const std::string& write : writes) {
      CommandResult refused = server.Cli(write);
      INFO(write << "\n" << refused.Describe());
      CHECK(refused.exit_code == 1);
      CHECK(refused.err.find("UNAVAILABLE") != std::string::npos);
      CHECK(refused.err.find("datastore.sqlite3") != std::string::npos);  // names the storage
      CHECK(refused.out.find("eyJ") == std::string::npos);  // no token or JWT handed out
    }
  }
  CHECK(server.Cli("healthcheck").exit_code == 0);  // alive: not killed by SIGXFSZ
  CHECK(ReadAll(server) == before);                 // reads work and nothing changed
  CHECK(ParseJsonOutput(server.Cli("entry count --output json"))["count"] == 3);
  CheckAuditIntact(server, 1);

  // --- lifted: writes work again, nothing was damaged -----------------------------------------
  REQUIRE(spinel::testing::SetLimit(server.pid(), RLIMIT_FSIZE, RLIM_INFINITY));
  CHECK(ReadAll(server) == before);
  ParseJsonOutput(server.Cli(CreateArgs("after")));
  CHECK(server.Cli("token generate --ttl 10m").exit_code == 0);
  CHECK(server.Cli(std::string("x509 mint --spiffe-id ") + kModel).exit_code == 0);
  CheckAuditIntact(server, 2);

  // --- and the database reopens whole after a crash -------------------------------------------
  server.Kill(SIGKILL);
  server.Start();
  json entries = ParseJsonOutput(server.Cli("entry show --output json"))["entries"];
  CHECK(entries.size() == 4);
  for (const json& entry : before.entries["entries"]) {
    bool found = false;
    for (const json& now : entries) found = found || now == entry;
    CHECK_MESSAGE(found, entry.dump());
  }
  CheckAuditIntact(server, 2);
  MESSAGE("datastore full: " << 2 * writes.size() << " writes refused with UNAVAILABLE, "
                             << before.entries["entries"].size() << " entries and "
                             << before.audit["events"].size() << " audit events intact");
}
