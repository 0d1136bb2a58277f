// Malformed YAML and JSON (issue 7, "Bad input") given to the real binaries: server and agent
// config files (`run --config`), zone files (`zone validate`, then `zone reload` and SIGHUP on a
// running server) and the entry batch JSON of `entry create --data`. Each must be refused with
// a clear error naming the file, the line (YAML) or the element (JSON) and the key, exit 2 where
// the CLI refuses (docs/cli.md), and change nothing: no data directory created, the zones in
// force and the entries unchanged, the server still healthy.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/integration/process_util.h"

using spinel::testing::BuildDir;
using spinel::testing::CommandResult;
using spinel::testing::ReadWholeFile;
using spinel::testing::RunCommand;
using spinel::testing::ServerProcess;
using spinel::testing::ShellQuote;
using spinel::testing::SourceDir;
using spinel::testing::TempDir;
using spinel::testing::WaitFor;

namespace {

struct BadFile {
  std::string name;               // what the case is
  std::string text;               // the file's content
  std::vector<std::string> want;  // each must appear in stderr
};

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

size_t Count(const std::string& text, const std::string& part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++count;
  return count;
}

// Error output is printable ASCII: input bytes are escaped, never echoed raw.
bool Printable(const std::string& text) {
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n') || c >= 0x7f) return false;
  }
  return true;
}

// A YAML document nested `depth` levels deep in flow style.
std::string DeepYaml(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

std::vector<BadFile> BadServerConfigs(const std::string& data, const std::string& zones) {
  const std::string head =
      "trust_domain: control.spinel.test\ndata_dir: " + data + "\nzones_dir: " + zones + "\n";
  return {
      {"unclosed flow sequence",
       head + "listen: {agent_api: [127.0.0.1:0\n",
       {"bad.yaml:5", "YAML syntax error"}},
      {"tab indentation", head + "listen:\n\tagent_api: 127.0.0.1:0\n", {"bad.yaml:5"}},
      {"unknown key", head + "listne:\n  agent_api: 127.0.0.1:0\n", {"bad.yaml:4:1", "listne"}},
      {"unknown nested key", head + "limits:\n  bogus: 1\n", {"bad.yaml:5:3", "limits.bogus"}},
      {"duration of wrong type", head + "ca_ttl: [1h]\n", {"bad.yaml:4", "ca_ttl"}},
      {"bad duration", head + "ca_ttl: forever\n", {"bad.yaml:4", "ca_ttl"}},
      {"SPIFFE ID as trust domain",
       "trust_domain: spiffe://control.spinel.test\ndata_dir: " + data + "\nzones_dir: " + zones,
       {"bad.yaml:1", "trust_domain"}},
      {"integer out of range",
       head + "limits:\n  max_concurrent_signings: 99999999999999999999\n",
       {"bad.yaml:5", "max_concurrent_signings"}},
      {"map instead of string", head + "datastore: {sqlite: x}\n", {"bad.yaml:4", "datastore"}},
      {"empty file", "", {"bad.yaml", "trust_domain: missing required key"}},
      {"top-level list", "- trust_domain\n- data_dir\n", {"bad.yaml:1:1", "expected a mapping"}},
      {"binary garbage", std::string("\x00\xff\xfe\x7f garbage \x01\x02", 16), {"bad.yaml"}},
      {"deep nesting", head + "listen: " + DeepYaml(20000) + "\n", {"bad.yaml"}},
      {"alias bomb",
       head + "a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n",
       {"bad.yaml:4:1", "a"}},
  };
}

std::vector<BadFile> BadAgentConfigs(const std::string& data) {
  const std::string head =
      "trust_domain: control.spinel.test\nserver_address: 127.0.0.1:1\n"
      "trust_bundle: b.pem\ndata_dir: " +
      data + "\nsocket_path: " + data + "/w.sock\n";
  return {
      {"unclosed quote", head + "log:\n  level: \"debug\n", {"bad.yaml:"}},
      {"unknown key", head + "attestaton:\n  join_token: x\n", {"bad.yaml:6:1", "attestaton"}},
      {"batch size out of range", head + "sign_batch_size: 0\n", {"bad.yaml:6", "sign_batch_size"}},
      {"half of x509pop",
       head + "attestation:\n  x509pop:\n    cert: c.pem\n",
       {"bad.yaml:", "x509pop"}},
      {"reconnect min > max", head + "reconnect: {min: 1m, max: 1s}\n", {"bad.yaml", "reconnect"}},
      {"bad log level", head + "log: {level: loud}\n", {"bad.yaml:6", "log.level"}},
      {"missing required keys",
       "trust_domain: control.spinel.test\n",
       {"bad.yaml", "server_address: missing required key"}},
      {"deep nesting", head + "reconnect: " + DeepYaml(20000) + "\n", {"bad.yaml"}},
  };
}

// Runs `binary run --config bad.yaml` for each case: exit 2, every wanted text in stderr, and
// `data` not created.
int CheckConfigs(const TempDir& dir, const std::string& binary, const std::vector<BadFile>& cases,
                 const std::string& data) {
  int count = 0;
  for (const BadFile& c : cases) {
    CAPTURE(c.name);
    dir.Write("bad.yaml", c.text);
    CommandResult r = RunCommand("timeout 60 " + ShellQuote(binary) + " run --config " +
                                 ShellQuote(dir.File("bad.yaml")));
    ++count;
    CHECK_MESSAGE(r.exit_code == 2, r.Describe());
    for (const std::string& want : c.want) CHECK_MESSAGE(Contains(r.err, want), r.Describe());
    CHECK_MESSAGE(Printable(r.err), r.Describe());
    CHECK_MESSAGE(!std::filesystem::exists(data), data << " was created");
  }
  return count;
}

std::string ZoneFile(const std::string& name) {
  return ReadWholeFile(SourceDir() + "/trust-zones/zones/" + name + ".yaml");
}

// Bad versions of the shipped retrieval zone (retrieval.yaml).
std::vector<BadFile> BadZones() {
  const std::string good = ZoneFile("retrieval");
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const size_t at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    text.replace(at, from.size(), to);
    return text;
  };
  return {
      {"unclosed flow mapping",
       good + "\nextra: {a: 1\n",
       {"retrieval.yaml:", "YAML syntax error"}},
      {"unknown key", good + "\nbogus_key: 1\n", {"retrieval.yaml:", "bogus_key"}},
      {"wrong name", replace("name: retrieval", "name: Retrieval"), {"retrieval.yaml:3:1", "name"}},
      {"SPIFFE ID as trust domain",
       replace("trust_domain: ", "trust_domain: spiffe://"),
       {"retrieval.yaml:", "trust_domain"}},
      {"bad ttl",
       replace("{default: 30m", "{default: soon"),
       {"retrieval.yaml:9:", "x509_svid_ttl.default"}},
      {"duplicate key", good + "\nnodes: []\n", {"retrieval.yaml:", "nodes: duplicate key"}},
      {"bad node selector",
       replace("nodes: []", "nodes: [\"Unix:uid:0\"]"),
       {"retrieval.yaml:13:", "nodes"}},
      {"peer without a file",
       replace("peers: [inference]", "peers: [inference, no-such-zone]"),
       {"retrieval.yaml:16:", "no-such-zone"}},
      {"binary garbage", std::string("\xff\xfe\x00\x01name: x", 11), {"retrieval.yaml"}},
      {"deep nesting", good + "\ndescription: " + DeepYaml(20000) + "\n", {"retrieval.yaml"}},
  };
}

std::string ZoneList(const ServerProcess& server) {
  CommandResult r = server.Cli("zone list --output json");
  REQUIRE_MESSAGE(r.exit_code == 0, r.Describe());
  return r.out;
}

void CopyShippedZones(const std::string& to) {
  std::filesystem::create_directories(to);
  for (const auto& file : std::filesystem::directory_iterator(SourceDir() + "/trust-zones/zones")) {
    std::filesystem::copy_file(file.path(), to + "/" + file.path().filename().string());
  }
}

}  // namespace

TEST_CASE("malformed server and agent config files: exit 2 naming file, line and key") {
  TempDir dir;
  const std::string data = dir.File("data");
  int cases = CheckConfigs(dir, BuildDir() + "/server/spinel-server",
                           BadServerConfigs(data, SourceDir() + "/trust-zones/zones"), data);
  cases += CheckConfigs(dir, BuildDir() + "/agent/spinel-agent", BadAgentConfigs(data), data);
  MESSAGE(cases << " malformed config files refused");
}

TEST_CASE("malformed zone files: validate exits 2, reload and SIGHUP keep the zones in force") {
  TempDir dir;
  const std::string zones = dir.File("zones");
  CopyShippedZones(zones);
  ServerProcess server(dir, zones);
  server.Start();
  const std::string zones_before = ZoneList(server);
  const std::string original = ReadWholeFile(zones + "/retrieval.yaml");
  int cases = 0;
  for (const BadFile& c : BadZones()) {
    CAPTURE(c.name);
    dir.Write("zones/retrieval.yaml", c.text);
    CommandResult validate = server.Cli("zone validate " + ShellQuote(zones));
    CHECK_MESSAGE(validate.exit_code == 2, validate.Describe());
    for (const std::string& want : c.want) {
      CHECK_MESSAGE(Contains(validate.err, want), validate.Describe());
    }
    CHECK_MESSAGE(Printable(validate.err), validate.Describe());
    // The running server refuses the whole change and keeps serving the old zones.
    CommandResult reload = server.Cli("zone reload");
    CHECK_MESSAGE(reload.exit_code == 1, reload.Describe());
    CHECK_MESSAGE(Contains(reload.err, "retrieval.yaml"), reload.Describe());
    const size_t refusals = Count(server.Log(), "zone reload (SIGHUP) refused");
    server.Signal(SIGHUP);
    CHECK(WaitFor([&] { return Count(server.Log(), "zone reload (SIGHUP) refused") > refusals; }));
    CHECK(server.Cli("healthcheck").exit_code == 0);
    CHECK(ZoneList(server) == zones_before);
    cases += 2;
  }
  dir.Write("zones/retrieval.yaml", original);
  CHECK(server.Cli("zone reload").exit_code == 0);
  CHECK(ZoneList(server) == zones_before);
  CHECK(server.Cli("healthcheck").exit_code == 0);
  MESSAGE(cases << " malformed zone files refused by validate and reload");
}

TEST_CASE("malformed entry batch JSON: exit 2 naming the element, nothing created") {
  TempDir dir;
  ServerProcess server(dir);
  server.Start();
  const std::string parent = "spiffe://control.spinel.test/spinel/agent/join_token/x";
  const std::string ok_entry =
      "{\"spiffe_id\": \"spiffe://inference.ai.example.org/a\", "
      "\"parent_id\": \"" +
      parent + "\", \"selectors\": [\"unix:uid:1\"]}";
  const std::vector<BadFile> cases = {
      {"truncated", "{\"entries\": [" + ok_entry, {"--data", "batch.json"}},
      {"not JSON", "entries: []", {"--data", "batch.json"}},
      {"not an object", "[" + ok_entry + "]", {"--data", "entries"}},
      {"entries not a list", "{\"entries\": {}}", {"--data", "entries"}},
      {"bad SPIFFE ID in the 2nd entry",
       "{\"entries\": [" + ok_entry + ", {\"spiffe_id\": \"spiffe://x/../y\", \"parent_id\": \"" +
           parent + "\", \"selectors\": [\"unix:uid:1\"]}]}",
       {"entries[1].spiffe_id"}},
      {"bad selector",
       "{\"entries\": [" + ok_entry.substr(0, ok_entry.size() - 16) + "[\"unix\"]}]}",
       {"entries[0].selectors[0]"}},
      {"unknown key",
       "{\"entries\": [" + ok_entry.substr(0, ok_entry.size() - 1) + ", \"spiffeid\": 1}]}",
       {"entries[0]", "spiffeid"}},
      {"wrong type",
       "{\"entries\": [" + ok_entry.substr(0, ok_entry.size() - 1) + ", \"admin\": \"yes\"}]}",
       {"entries[0].admin"}},
      {"bad ttl",
       "{\"entries\": [" + ok_entry.substr(0, ok_entry.size() - 1) +
           ", \"x509_svid_ttl\": \"-5m\"}]}",
       {"entries[0].x509_svid_ttl"}},
      {"duplicate key",
       "{\"entries\": [], \"entries\": [" + ok_entry + "]}",
       {"--data", "duplicate member"}},
      {"binary garbage", std::string("\xff\xfe{\x00\"entries\"", 12), {"--data"}},
      {"deep nesting", std::string(100000, '[') + std::string(100000, ']'), {"--data", "nested"}},
  };
  for (const BadFile& c : cases) {
    CAPTURE(c.name);
    dir.Write("batch.json", c.text);
    CommandResult r = server.Cli("entry create --data " + ShellQuote(dir.File("batch.json")));
    CHECK_MESSAGE(r.exit_code == 2, r.Describe());
    CHECK_MESSAGE(Contains(r.err, "(nothing was sent)"), r.Describe());
    CHECK_MESSAGE(Printable(r.err), r.Describe());
    for (const std::string& want : c.want) CHECK_MESSAGE(Contains(r.err, want), r.Describe());
  }
  CommandResult count = server.Cli("entry count");
  CHECK_MESSAGE(count.exit_code == 0, count.Describe());
  CHECK_MESSAGE(count.out == "0 entries\n", count.Describe());
  CHECK(server.Cli("healthcheck").exit_code == 0);
  // The good entry alone is accepted, so the refusals above were about the bad parts.
  dir.Write("batch.json", "{\"entries\": [" + ok_entry + "]}");
  CommandResult created = server.Cli("entry create --data " + ShellQuote(dir.File("batch.json")));
  CHECK_MESSAGE(created.exit_code == 0, created.Describe());
  CHECK(server.Cli("entry count").out == "1 entry\n");
}
