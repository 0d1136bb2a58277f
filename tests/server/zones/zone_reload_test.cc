// ZoneReloader (the one reload path of SIGHUP and the admin API), ZoneState generations and the
// policy document pushed to agents, over real components (ServerFixture) and a real zones
// directory (a copy of the shipped zones in a temp directory that each test edits).
#include "server/zones/zone_reload.h"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/file_util.h"
#include "common/x509_ca.h"
#include "tests/server/server_fixture.h"

using spinel::common::TrustDomain;
using spinel::server::CaConfigs;
using spinel::server::DiffZones;
using spinel::server::ReadZoneGeneration;
using spinel::server::RegistrationEntry;
using spinel::server::SyncSubscriber;
using spinel::server::ZoneChanges;
using spinel::server::ZoneGeneration;
using spinel::server::ZoneReloader;
using spinel::server::testing::ServerFixture;
using spinel::server::testing::ServerFixtureOptions;
using spinel::server::testing::ShippedZonesDir;
using spinel::server::testing::TempDirectory;
using Strings = std::vector<std::string>;

namespace {

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// 1-based line of the first occurrence of `part` in `text`.
int LineOf(const std::string& text, const std::string& part) {
  size_t at = text.find(part);
  REQUIRE(at != std::string::npos);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

constexpr char kNewZone[] =
    "name: {name}\ntrust_domain: {name}.example.org\nx509_svid_ttl: 1h\njwt_svid_ttl: 5m\n"
    "ca_ttl: 2h\n";

std::string NewZone(const std::string& name) {
  std::string text = kNewZone;
  for (size_t at; (at = text.find("{name}")) != std::string::npos;) text.replace(at, 6, name);
  return text;
}

// A copy of the shipped zones, and a fixture whose server loads them.
struct ReloadWorld {
  ReloadWorld()
      : zones_dir(CopyShipped(copy.path())),
        fixture(ServerFixtureOptions{.zones_dir = zones_dir}),
        reloader(fixture.config, *fixture.datastore, *fixture.zones, *fixture.cas, *fixture.feed) {}

  static std::string CopyShipped(const std::string& dir) {
    std::filesystem::copy(ShippedZonesDir(), dir + "/zones");
    return dir + "/zones";
  }
  std::string File(const std::string& name) const { return zones_dir + "/" + name; }
  // Replaces the first `from` in zone file `name` by `to`.
  void Edit(const std::string& name, const std::string& from, const std::string& to) const {
    std::string text = ReadText(File(name));
    size_t at = text.find(from);
    REQUIRE_MESSAGE(at != std::string::npos, from);
    WriteText(File(name), text.replace(at, from.size(), to));
  }
  void AddEntry(const std::string& spiffe_id) {
    RegistrationEntry entry;
    entry.spiffe_id = *spinel::common::SpiffeId::Parse(spiffe_id);
    entry.parent_id =
        *spinel::common::SpiffeId::Parse("spiffe://spinel.ai.example.org/spinel/agent/x/node-1");
    entry.selectors = {{"unix", "uid:1000"}};
    auto created = fixture.registry->Create(entry);
    REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  }

  TempDirectory copy;
  std::string zones_dir;
  ServerFixture fixture;
  ZoneReloader reloader;
};

class CountingSubscriber final : public SyncSubscriber {
 public:
  void Refresh() override { ++refreshed; }
  std::atomic<int> refreshed{0};
};

bool EventuallyRefreshed(const CountingSubscriber& subscriber) {
  for (int i = 0; i < 1000 && subscriber.refreshed == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return subscriber.refreshed > 0;
}

}  // namespace

TEST_CASE("zone generation: the set with its files by base name, rebuildable from them") {
  auto generation = ReadZoneGeneration(ShippedZonesDir());
  REQUIRE_MESSAGE(generation.ok(), generation.status().ToString());
  Strings files;
  for (const auto& source : generation->sources) files.push_back(source.file);
  CHECK(files ==
        Strings{"inference.yaml", "retrieval.yaml", "tool-execution.yaml", "training.yaml"});
  CHECK(generation->sources[3].text == ReadText(ShippedZonesDir() + "/training.yaml"));
  auto rebuilt = spinel::zones::BuildZoneSet(generation->sources);
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->zones().size() == 4);
  CHECK(rebuilt->PeersOf("inference") == generation->set.PeersOf("inference"));
  // Errors keep the path an operator can open.
  TempDirectory dir;
  std::filesystem::copy(ShippedZonesDir(), dir.path() + "/z");
  WriteText(dir.path() + "/z/training.yaml", "name: training\ncolour: blue\n");
  auto broken = ReadZoneGeneration(dir.path() + "/z");
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(Message(broken.status()), dir.path() + "/z/training.yaml:"));
}

TEST_CASE("zone state: Get shares the generation, Replace swaps set and files together") {
  auto first = ReadZoneGeneration(ShippedZonesDir());
  REQUIRE(first.ok());
  spinel::server::ZoneState state(*first);
  auto set = state.Get();
  auto generation = state.Generation();
  CHECK(set.get() == &generation->set);
  ZoneGeneration smaller = *first;
  smaller.sources.pop_back();
  auto rebuilt = spinel::zones::BuildZoneSet(smaller.sources);
  REQUIRE(rebuilt.ok());
  smaller.set = *std::move(rebuilt);
  state.Replace(std::move(smaller));
  CHECK(state.Get()->zones().size() == 3);
  CHECK(state.Generation()->sources.size() == 3);
  CHECK(set->zones().size() == 4);  // a reader keeps the generation it took
}

TEST_CASE("policy document: the zones array plus every zone file in file-name order") {
  ServerFixture fixture;
  auto doc = nlohmann::json::parse(fixture.view->PolicyDocument());
  REQUIRE(doc["zones"].size() == 4);
  CHECK(doc["zones"][0] == nlohmann::json{{"name", "inference"},
                                          {"trust_domain", "inference.ai.example.org"},
                                          {"peers", {"retrieval", "tool-execution"}},
                                          {"federates_with", nlohmann::json::array()}});
  REQUIRE(doc["zone_files"].size() == 4);
  CHECK(doc["zone_files"][0]["file"] == "inference.yaml");
  CHECK(doc["zone_files"][3]["file"] == "training.yaml");
  CHECK(doc["zone_files"][3]["text"] == ReadText(ShippedZonesDir() + "/training.yaml"));
  // What an agent does with it: the same zones, peers and rules.
  std::vector<spinel::zones::ZoneSource> sources;
  for (const auto& file : doc["zone_files"]) sources.push_back({file["file"], file["text"]});
  auto rebuilt = spinel::zones::BuildZoneSet(sources);
  REQUIRE(rebuilt.ok());
  CHECK(rebuilt->Find("tool-execution")->rules.size() ==
        fixture.zone("tool-execution").rules.size());
}

TEST_CASE("reload: a valid edit is applied, reported, pushed to agents at once") {
  ReloadWorld w;
  CountingSubscriber subscriber;
  w.fixture.hub->Subscribe(&subscriber);
  auto unchanged = w.reloader.Reload();
  REQUIRE(unchanged.ok());
  CHECK(unchanged->empty());

  w.Edit("training.yaml", "peers: []", "peers: [retrieval]");
  w.Edit("training.yaml", "resources:\n",
         "resources:\n  - name: read-docs\n    resource: \"dataset:docs/**\"\n"
         "    actions: [read]\n");
  auto changes = w.reloader.Reload();
  REQUIRE_MESSAGE(changes.ok(), changes.status().ToString());
  CHECK(changes->added.empty());
  CHECK(changes->removed.empty());
  // retrieval's file is unchanged but its symmetric peers are not.
  CHECK(changes->changed == Strings{"retrieval", "training"});
  CHECK(w.fixture.zones->Get()->ArePeers("training", "retrieval"));
  CHECK(w.fixture.zone("training").rules.front().name == "read-docs");
  CHECK(EventuallyRefreshed(subscriber));
  auto doc = nlohmann::json::parse(w.fixture.view->PolicyDocument());
  CHECK(doc["zones"][3]["peers"] == nlohmann::json{"retrieval"});
  CHECK(doc["zone_files"][3]["text"] == ReadText(w.File("training.yaml")));
  w.fixture.hub->Unsubscribe(&subscriber);
}

TEST_CASE("reload: an invalid change is refused whole, naming file and line") {
  ReloadWorld w;
  auto before = w.fixture.zones->Generation();
  w.Edit("inference.yaml", "peers: [retrieval, tool-execution]", "peers: [retrieval, training]");
  w.Edit("training.yaml", "actions: [read, list]", "actions: [read, fly]");
  auto refused = w.reloader.Reload();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  const int line = LineOf(ReadText(w.File("training.yaml")), "actions: [read, fly]");
  CHECK_MESSAGE(Contains(Message(refused.status()),
                         w.File("training.yaml") + ":" + std::to_string(line) + ":"),
                Message(refused.status()));
  CHECK(Contains(Message(refused.status()), "fly"));
  // Nothing changed, not even the valid part of the edit.
  CHECK(w.fixture.zones->Generation() == before);
  CHECK_FALSE(w.fixture.zones->Get()->ArePeers("inference", "training"));
}

TEST_CASE("reload: a trusted issuer whose JWKS file cannot be read is refused, naming it") {
  ReloadWorld w;
  auto before = w.fixture.zones->Generation();
  w.Edit("inference.yaml", "jwks_file: demo-users.jwks.json", "jwks_file: idp.jwks.json");
  auto refused = w.reloader.Reload();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kNotFound);
  CHECK_MESSAGE(Contains(Message(refused.status()), "trusted_issuers[0].jwks_file"),
                Message(refused.status()));
  CHECK(Contains(Message(refused.status()), "inference.yaml:"));
  CHECK(w.fixture.zones->Generation() == before);

  // With the file in place the same zones load, and the zone trusts the issuer.
  WriteText(w.File("idp.jwks.json"), R"({"keys":[{"kty":"EC","crv":"P-256","kid":"k1","use":"sig",)"
                                     R"("x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",)"
                                     R"("y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]})");
  auto applied = w.reloader.Reload();
  REQUIRE_MESSAGE(applied.ok(), applied.status().ToString());
  CHECK(Contains(w.fixture.zones->Get()->Find("inference")->trusted_issuers.at(0).jwks_file,
                 "idp.jwks.json"));
}

TEST_CASE("reload: a zone with entries is not removed or moved; an empty one is") {
  ReloadWorld w;
  w.AddEntry("spiffe://retrieval.ai.example.org/indexer");
  w.AddEntry("spiffe://retrieval.ai.example.org/embedder");
  const std::string retrieval = ReadText(w.File("retrieval.yaml"));
  std::filesystem::remove(w.File("retrieval.yaml"));
  w.Edit("inference.yaml", "peers: [retrieval, tool-execution]", "peers: [tool-execution]");
  auto refused = w.reloader.Reload();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(Message(refused.status()), "zone \"retrieval\" cannot be removed"));
  CHECK(Contains(Message(refused.status()), "2 registration entries"));
  CHECK(w.fixture.zones->Get()->Find("retrieval") != nullptr);

  WriteText(w.File("retrieval.yaml"), retrieval);
  w.Edit("retrieval.yaml", "retrieval.ai.example.org", "rag.ai.example.org");
  auto moved = w.reloader.Reload();
  REQUIRE_FALSE(moved.ok());
  CHECK(moved.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(Message(moved.status()), "cannot move from trust domain retrieval.ai."));
  CHECK(w.fixture.zone("retrieval").trust_domain.name() == "retrieval.ai.example.org");

  // tool-execution has no entries: removing it works.
  std::filesystem::remove(w.File("tool-execution.yaml"));
  WriteText(w.File("retrieval.yaml"), retrieval);
  w.Edit("inference.yaml", "peers: [tool-execution]", "peers: [retrieval]");
  auto removed = w.reloader.Reload();
  REQUIRE_MESSAGE(removed.ok(), removed.status().ToString());
  CHECK(removed->removed == Strings{"tool-execution"});
  CHECK(removed->changed == Strings{"inference"});
  CHECK(w.fixture.zones->Get()->Find("tool-execution") == nullptr);
}

TEST_CASE("reload: an added zone gets its CA before it is in force") {
  ReloadWorld w;
  WriteText(w.File("gpu.yaml"), NewZone("gpu"));
  auto changes = w.reloader.Reload();
  REQUIRE_MESSAGE(changes.ok(), changes.status().ToString());
  CHECK(changes->added == Strings{"gpu"});
  auto snapshot = w.fixture.cas->Snapshot(*TrustDomain::Parse("gpu.example.org"));
  REQUIRE(snapshot != nullptr);
  CHECK(snapshot->active_jwt != nullptr);
  CHECK(w.fixture.zones->Get()->FindByTrustDomain("gpu.example.org") != nullptr);
}

TEST_CASE("reload: a zone using the control-plane trust domain is refused") {
  ReloadWorld w;
  WriteText(w.File("control.yaml"),
            "name: control\ntrust_domain: spinel.ai.example.org\nx509_svid_ttl: 1h\n"
            "jwt_svid_ttl: 5m\nca_ttl: 2h\n");
  auto refused = w.reloader.Reload();
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(Contains(Message(refused.status()), w.File("control.yaml") + ":2:"));
  CHECK(Contains(Message(refused.status()), "control-plane trust domain"));
  CHECK(w.fixture.zones->Get()->Find("control") == nullptr);
}

TEST_CASE("reload: CAs of added zones are created all or nothing (one root per zone)") {
  ReloadWorld w;
  const std::string root_dir = w.copy.path();
  auto key = spinel::common::PrivateKey::Generate();
  REQUIRE(key.ok());
  auto root = spinel::common::CreateSelfSignedCa(*TrustDomain::Parse("gpu-a.example.org"), *key,
                                                 w.fixture.clock.Now(), std::chrono::hours(720));
  REQUIRE(root.ok());
  REQUIRE(spinel::common::WriteFileAtomic(root_dir + "/root.pem", root->ToPem()).ok());
  REQUIRE(spinel::common::WriteFileAtomic(root_dir + "/root.key", key->ToPkcs8Pem()->view()).ok());
  // Both new zones name the same root: the second one is refused, so neither is added.
  w.fixture.config.upstream_authorities["gpu-a"] = {root_dir + "/root.pem", root_dir + "/root.key"};
  w.fixture.config.upstream_authorities["gpu-b"] = {root_dir + "/root.pem", root_dir + "/root.key"};
  WriteText(w.File("gpu-a.yaml"), NewZone("gpu-a"));
  WriteText(w.File("gpu-b.yaml"), NewZone("gpu-b"));
  auto before = w.fixture.zones->Generation();
  auto refused = w.reloader.Reload();
  REQUIRE_FALSE(refused.ok());
  CHECK(Contains(Message(refused.status()), "one root must never serve two zones"));
  CHECK(w.fixture.cas->Find(*TrustDomain::Parse("gpu-a.example.org")) == nullptr);
  CHECK(w.fixture.cas->Find(*TrustDomain::Parse("gpu-b.example.org")) == nullptr);
  CHECK(w.fixture.zones->Generation() == before);

  // With one root per zone the same reload succeeds, and the CA chains to that root.
  w.fixture.config.upstream_authorities.erase("gpu-b");
  auto changes = w.reloader.Reload();
  REQUIRE_MESSAGE(changes.ok(), changes.status().ToString());
  CHECK(changes->added == Strings{"gpu-a", "gpu-b"});
  auto snapshot = w.fixture.cas->Snapshot(*TrustDomain::Parse("gpu-a.example.org"));
  REQUIRE(snapshot != nullptr);
  CHECK(snapshot->X509TrustAnchors().front().Equals(*root));
}

TEST_CASE("diff: added, removed and changed zones by name") {
  auto before = ReadZoneGeneration(ShippedZonesDir());
  REQUIRE(before.ok());
  ZoneGeneration after = *before;
  after.sources[0].text += "# a comment is a change of the file\n";
  ZoneChanges changes = DiffZones(*before, after);
  CHECK(changes.changed == Strings{"inference"});
  CHECK(changes.added.empty());
  CHECK(DiffZones(*before, *before).empty());
  CHECK(CaConfigs(spinel::server::ServerConfig{}, before->set).size() == 5);
}
