// Contract tests for registration entries and the change log, run against every backend.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "server/datastore/datastore.h"
#include "tests/server/datastore/datastore_test_util.h"

namespace spinel::server::testing {
namespace {

using std::chrono::seconds;

constexpr char kAgent[] = "spiffe://control.example.org/spinel/agent/join_token/a1";
constexpr char kAgent2[] = "spiffe://control.example.org/spinel/agent/join_token/a2";

// "xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx", lower-case hex.
bool IsUuidV4(const std::string& id) {
  if (id.size() != 36 || id[14] != '4' || std::string("89ab").find(id[19]) == std::string::npos) {
    return false;
  }
  for (size_t i = 0; i < id.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash != (id[i] == '-')) return false;
    if (!dash && std::string("0123456789abcdef").find(id[i]) == std::string::npos) return false;
  }
  return true;
}

RegistrationEntry FullEntry() {
  RegistrationEntry e = MakeEntry("spiffe://inference.example.org/model-server", kAgent,
                                  {"unix:uid:1000", "docker:image:vllm", "unix:uid:1000"});
  e.x509_svid_ttl = 3600;
  e.jwt_svid_ttl = 300;
  e.dns_names = {"model.internal", "model"};
  e.hint = "model server";
  e.admin = true;
  e.expires_at = 1'900'000'000;
  return e;
}

TEST_CASE_TEMPLATE("entries: create and get round-trip every field", B, SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  auto created = ds.CreateEntry(FullEntry());
  REQUIRE_MESSAGE(created.ok(), std::string(created.status().message()));
  CHECK(IsUuidV4(created->id));
  CHECK(created->zone == "inference.example.org");
  CHECK(created->selectors == Selectors({"docker:image:vllm", "unix:uid:1000"}));
  CHECK(created->revision_number == 0);
  CHECK(created->created_at == 1'800'000'000);
  CHECK(created->updated_at == 1'800'000'000);

  auto got = ds.GetEntry(created->id);
  REQUIRE(got.ok());
  CHECK(*got == *created);
  CHECK(got->dns_names == std::vector<std::string>{"model.internal", "model"});
  CHECK(got->hint == "model server");
  CHECK(got->admin);
  CHECK(got->expires_at == 1'900'000'000);
  CHECK(got->x509_svid_ttl == 3600);
  CHECK(got->jwt_svid_ttl == 300);

  RegistrationEntry minimal = MakeEntry("spiffe://retrieval.example.org/r", kAgent, {"unix:uid:7"});
  minimal.id = "my-entry.1";
  auto stored = ds.CreateEntry(minimal);
  REQUIRE(stored.ok());
  CHECK(stored->id == "my-entry.1");
  CHECK_FALSE(ds.GetEntry("my-entry.1")->expires_at.has_value());
}

TEST_CASE_TEMPLATE("entries: update bumps the revision; a stale revision is refused", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  auto created = ds.CreateEntry(FullEntry());
  REQUIRE(created.ok());
  backend.clock.Advance(seconds(60));

  RegistrationEntry change = *created;
  change.hint = "renamed";
  change.selectors = Selectors({"unix:uid:1001"});
  change.expires_at.reset();
  auto updated = ds.UpdateEntry(change);
  REQUIRE_MESSAGE(updated.ok(), std::string(updated.status().message()));
  CHECK(updated->revision_number == 1);
  CHECK(updated->created_at == created->created_at);
  CHECK(updated->updated_at == created->created_at + 60);
  CHECK(*ds.GetEntry(created->id) == *updated);

  // `change` still carries revision 0: somebody else updated in between.
  change.hint = "lost update";
  auto stale = ds.UpdateEntry(change);
  CHECK(stale.status().code() == absl::StatusCode::kAborted);
  CHECK(Contains(stale.status().message(), created->id));
  CHECK(ds.GetEntry(created->id)->hint == "renamed");

  RegistrationEntry again = *updated;
  again.admin = false;
  CHECK(ds.UpdateEntry(again)->revision_number == 2);
}

TEST_CASE_TEMPLATE("entries: errors name the entry and write nothing", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  RegistrationEntry e = MakeEntry("spiffe://inference.example.org/w", kAgent, {"unix:uid:1"});
  e.id = "abc";
  REQUIRE(ds.CreateEntry(e).ok());

  auto missing = ds.GetEntry("nope");
  CHECK(missing.status().code() == absl::StatusCode::kNotFound);
  CHECK(missing.status().message() == "entry \"nope\" not found");
  RegistrationEntry ghost = e;
  ghost.id = "nope";
  CHECK(ds.UpdateEntry(ghost).status().code() == absl::StatusCode::kNotFound);
  CHECK(ds.DeleteEntry("nope").status().code() == absl::StatusCode::kNotFound);

  auto dup_id = ds.CreateEntry(e);
  CHECK(dup_id.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(Contains(dup_id.status().message(), "entry \"abc\" already exists"));
  RegistrationEntry same = e;
  same.id.clear();
  auto dup = ds.CreateEntry(same);
  CHECK(dup.status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(Contains(dup.status().message(), "\"abc\""));

  struct Bad {
    const char* why;
    std::function<void(RegistrationEntry&)> mutate;
  };
  for (const Bad& bad : std::vector<Bad>{
           {"selector", [](RegistrationEntry& x) { x.selectors.clear(); }},
           {"spiffe_id", [](RegistrationEntry& x) { x.spiffe_id = {}; }},
           {"parent_id", [](RegistrationEntry& x) { x.parent_id = {}; }},
           {"zone", [](RegistrationEntry& x) { x.zone = "training.example.org"; }},
           {"TTL", [](RegistrationEntry& x) { x.x509_svid_ttl = -1; }},
           {"id must", [](RegistrationEntry& x) { x.id = "has space"; }},
           {"hint", [](RegistrationEntry& x) { x.hint = "bad\xff"; }},
           {"DNS", [](RegistrationEntry& x) { x.dns_names = {"a b"}; }},
       }) {
    CAPTURE(bad.why);
    RegistrationEntry x = MakeEntry("spiffe://inference.example.org/v", kAgent, {"unix:uid:2"});
    bad.mutate(x);
    auto r = ds.CreateEntry(x);
    CHECK(r.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(Contains(r.status().message(), bad.why));
  }
  CHECK(*ds.CountEntries({}) == 1);
}

TEST_CASE_TEMPLATE("entries: filters, count, pages and lookup by parents", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  const char* kAlias = "spiffe://control.example.org/spinel/node/gpu";
  for (int i = 0; i < 5; ++i) {
    RegistrationEntry e = MakeEntry("spiffe://inference.example.org/w" + std::to_string(i),
                                    i < 3 ? kAgent : kAgent2, {"unix:uid:1"});
    e.id = "e" + std::to_string(i);
    REQUIRE(ds.CreateEntry(e).ok());
  }
  RegistrationEntry t = MakeEntry("spiffe://training.example.org/trainer", kAlias, {"unix:uid:1"});
  t.id = "t0";
  REQUIRE(ds.CreateEntry(t).ok());

  CHECK(*ds.CountEntries({}) == 6);
  CHECK(*ds.CountEntries({.parent_id = Id(kAgent)}) == 3);
  CHECK(*ds.CountEntries({.zone = "training.example.org"}) == 1);
  CHECK(*ds.CountEntries({.parent_id = Id(kAgent2), .zone = "training.example.org"}) == 0);
  auto by_id = ds.ListEntries({.spiffe_id = Id("spiffe://inference.example.org/w4")}, {});
  REQUIRE(by_id.ok());
  REQUIRE(by_id->entries.size() == 1);
  CHECK(by_id->entries[0].id == "e4");

  std::vector<std::string> seen;
  PageRequest page{.page_size = 4};
  for (int pages = 0;; ++pages) {
    REQUIRE(pages < 3);
    auto p = ds.ListEntries({}, page);
    REQUIRE(p.ok());
    for (const auto& e : p->entries) seen.push_back(e.id);
    if (p->next_page_token.empty()) break;
    page.page_token = p->next_page_token;
  }
  CHECK(seen == std::vector<std::string>{"e0", "e1", "e2", "e3", "e4", "t0"});
  CHECK(ds.ListEntries({}, {.page_size = -1}).status().code() ==
        absl::StatusCode::kInvalidArgument);

  auto served = ds.ListEntriesByParents({Id(kAgent2), Id(kAlias)});
  REQUIRE(served.ok());
  std::vector<std::string> ids;
  for (const auto& e : *served) ids.push_back(e.id);
  CHECK(ids == std::vector<std::string>{"e3", "e4", "t0"});
  CHECK(ds.ListEntriesByParents({})->empty());
}

TEST_CASE_TEMPLATE("entries: delete returns the entry once", B, SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  auto created = ds.CreateEntry(FullEntry());
  REQUIRE(created.ok());
  auto deleted = ds.DeleteEntry(created->id);
  REQUIRE(deleted.ok());
  CHECK(*deleted == *created);
  CHECK(ds.GetEntry(created->id).status().code() == absl::StatusCode::kNotFound);
  CHECK(ds.DeleteEntry(created->id).status().code() == absl::StatusCode::kNotFound);
  CHECK(*ds.CountEntries({}) == 0);
}

TEST_CASE_TEMPLATE("change log: every write gets the next revision; one record per object", B,
                   SPINEL_DATASTORE_BACKENDS) {
  B backend;
  Datastore& ds = *backend.store;
  CHECK(*ds.CurrentRevision() == 0);
  auto a = ds.CreateEntry(MakeEntry("spiffe://inference.example.org/a", kAgent, {"unix:uid:1"}));
  auto b = ds.CreateEntry(MakeEntry("spiffe://inference.example.org/b", kAgent, {"unix:uid:1"}));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(*ds.CurrentRevision() == 2);
  const int64_t seen = *ds.CurrentRevision();

  REQUIRE(ds.UpdateEntry(*a).ok());
  REQUIRE(ds.DeleteEntry(b->id).ok());
  REQUIRE(ds.CreateAttestedAgent(MakeAgent(kAgent)).ok());
  REQUIRE(ds.SetBundle({Td("inference.example.org"), R"({"keys":[]})", 1, 0}).ok());
  REQUIRE(ds.UpdateEntry(*ds.GetEntry(a->id)).ok());  // a changes again: only its latest stays
  // Failed writes and join tokens/audit events do not count.
  CHECK_FALSE(ds.CreateEntry(*a).ok());
  REQUIRE(ds.AppendAuditEvent(Audit("test")).ok());

  auto changes = ds.ListChanges(seen, 0);
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 4);
  CHECK((*changes)[0] == Change{4, ChangeKind::kEntry, b->id, true});
  CHECK((*changes)[1] == Change{5, ChangeKind::kAgent, kAgent, false});
  CHECK((*changes)[2] == Change{6, ChangeKind::kBundle, "inference.example.org", false});
  CHECK((*changes)[3] == Change{7, ChangeKind::kEntry, a->id, false});
  CHECK(*ds.CurrentRevision() == 7);
  CHECK(ds.ListChanges(seen, 2)->size() == 2);
  CHECK(ds.ListChanges(7, 0)->empty());
}

}  // namespace
}  // namespace spinel::server::testing
