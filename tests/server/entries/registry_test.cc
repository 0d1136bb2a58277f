// EntryRegistry (server/entries/registry.cc) over a real SQLite datastore and the shipped zones:
// which entries are accepted, that every refusal names the problem with the right code and writes
// nothing, node aliases, placement, and the change events its writes record (what the change
// feed delivers to wake the agents' streams).
#include "server/entries/registry.h"

#include <doctest/doctest.h>

#include "tests/server/server_test_util.h"

using spinel::server::ChangeEvent;
using spinel::server::ChangeKind;
using spinel::server::RegistrationEntry;
using namespace spinel::server::testing;

namespace {

// The entry change events recorded so far, in revision order.
std::vector<ChangeEvent> EntryEvents(spinel::server::Datastore& datastore) {
  auto events = datastore.ListChangeEvents(0, 1000);
  REQUIRE_MESSAGE(events.ok(), events.status().ToString());
  std::vector<ChangeEvent> entries;
  for (const ChangeEvent& event : *events) {
    if (event.kind == ChangeKind::kEntry) entries.push_back(event);
  }
  return entries;
}

struct Refusal {
  std::string what;
  RegistrationEntry entry;
  absl::StatusCode code;
  std::string message;
};

}  // namespace

TEST_CASE("registry: a valid zone entry is stored with its zone and its change recorded") {
  ServerFixture f;
  RegistrationEntry wanted = Entry(kModelServer);
  wanted.x509_svid_ttl = 3600;  // exactly inference's cap is allowed
  wanted.jwt_svid_ttl = 600;
  wanted.dns_names = {"model.example.org"};
  absl::StatusOr<RegistrationEntry> created = f.registry->Create(wanted);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK_FALSE(created->id.empty());
  CHECK(created->zone == "inference.ai.example.org");
  CHECK(created->x509_svid_ttl == 3600);
  CHECK(created->revision_number == 0);
  CHECK(EntryEvents(*f.datastore).size() == 1);
  CHECK_FALSE(f.registry->IsNodeAlias(*created));

  absl::StatusOr<RegistrationEntry> stored = f.datastore->GetEntry(created->id);
  REQUIRE(stored.ok());
  CHECK(*stored == *created);
}

TEST_CASE("registry: bad entries are refused with a reason and nothing is written") {
  ServerFixture f;
  auto with = [](RegistrationEntry entry, auto change) {
    change(entry);
    return entry;
  };
  const std::vector<Refusal> refusals = {
      {"unknown trust domain", Entry("spiffe://unknown.example.org/w"),
       absl::StatusCode::kInvalidArgument, "no zone has trust domain \"unknown.example.org\""},
      {"root path",
       with(Entry(kModelServer),
            [](auto& e) { e.spiffe_id = Id("spiffe://inference.ai.example.org"); }),
       absl::StatusCode::kInvalidArgument, "must have a path"},
      {"x509 TTL above the zone cap",
       with(Entry(kToolRunner), [](auto& e) { e.x509_svid_ttl = 15 * 60 + 1; }),
       absl::StatusCode::kInvalidArgument, "X.509 SVID TTL of 901s is above zone"},
      {"JWT TTL above the zone cap",
       with(Entry(kModelServer), [](auto& e) { e.jwt_svid_ttl = 601; }),
       absl::StatusCode::kInvalidArgument, "cap of 600s"},
      {"negative TTL", with(Entry(kModelServer), [](auto& e) { e.x509_svid_ttl = -1; }),
       absl::StatusCode::kInvalidArgument, "must not be negative"},
      {"no parent", with(Entry(kModelServer), [](auto& e) { e.parent_id = {}; }),
       absl::StatusCode::kInvalidArgument, "parent ID is required"},
      {"parent in a zone trust domain",
       Entry(kModelServer, "spiffe://inference.ai.example.org/agent"),
       absl::StatusCode::kInvalidArgument, "must be an agent or node alias"},
      {"zone entry parented to the server",
       Entry(kModelServer, "spiffe://spinel.ai.example.org/spinel/server"),
       absl::StatusCode::kInvalidArgument, "only node aliases"},
      {"no selectors", with(Entry(kModelServer), [](auto& e) { e.selectors.clear(); }),
       absl::StatusCode::kInvalidArgument, "at least one selector"},
      {"bad DNS name", with(Entry(kModelServer), [](auto& e) { e.dns_names = {"not a host"}; }),
       absl::StatusCode::kInvalidArgument, "DNS name \"not a host\""},
      {"hint too long", with(Entry(kModelServer), [](auto& e) { e.hint = std::string(1025, 'h'); }),
       absl::StatusCode::kInvalidArgument, "hint is longer than 1024 bytes"},
      {"control-plane ID under an agent (not a node alias)",
       Entry("spiffe://spinel.ai.example.org/workload"), absl::StatusCode::kInvalidArgument,
       "no zone has trust domain"},
  };
  for (const Refusal& r : refusals) {
    CAPTURE(r.what);
    absl::StatusOr<RegistrationEntry> created = f.registry->Create(r.entry);
    REQUIRE_FALSE(created.ok());
    CHECK(created.status().code() == r.code);
    CHECK_MESSAGE(Contains(created.status().message(), r.message), created.status().ToString());
  }
  CHECK(EntryCount(*f.datastore) == 0);
  CHECK(EntryEvents(*f.datastore).empty());
}

TEST_CASE("registry: node aliases are control-plane IDs parented to the server") {
  ServerFixture f;
  RegistrationEntry alias = Entry("spiffe://spinel.ai.example.org/nodes/gpu",
                                  "spiffe://spinel.ai.example.org/spinel/server");
  alias.selectors = Selectors({"x509pop:subject:cn:gpu-node"});
  absl::StatusOr<RegistrationEntry> created = f.registry->Create(alias);
  REQUIRE_MESSAGE(created.ok(), created.status().ToString());
  CHECK(f.registry->IsNodeAlias(*created));
  CHECK(created->zone == "spinel.ai.example.org");

  // A zone entry may then be parented to the alias.
  absl::StatusOr<RegistrationEntry> child =
      f.registry->Create(Entry(kModelServer, "spiffe://spinel.ai.example.org/nodes/gpu"));
  CHECK_MESSAGE(child.ok(), child.status().ToString());

  alias.x509_svid_ttl = -5;
  alias.spiffe_id = Id("spiffe://spinel.ai.example.org/nodes/other");
  absl::StatusOr<RegistrationEntry> negative = f.registry->Create(alias);
  CHECK(negative.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(EntryCount(*f.datastore) == 2);
}

TEST_CASE("registry: an attested parent must be allowed to host the zone") {
  TempDirectory zones;
  ServerFixture f(PinnedOptions(zones, "inference.yaml", {"x509pop:subject:cn:gpu"}));
  StoreAgent(*f.datastore, kFixtureAgent, {"x509pop:subject:cn:cpu"});
  StoreAgent(*f.datastore, kFixtureOtherAgent,
             {"x509pop:subject:cn:gpu", "x509pop:serialnumber:7"});

  absl::StatusOr<RegistrationEntry> refused = f.registry->Create(Entry(kModelServer));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(Contains(refused.status().message(), "may not host zone \"inference\""));
  CHECK(EntryCount(*f.datastore) == 0);

  CHECK(f.registry->Create(Entry(kModelServer, kFixtureOtherAgent)).ok());
  // Zones without `nodes` go anywhere; a parent that has not attested yet is not checked.
  CHECK(f.registry->Create(Entry(kToolRunner)).ok());
  CHECK(f.registry
            ->Create(
                Entry(kModelServer, "spiffe://spinel.ai.example.org/spinel/agent/join_token/later"))
            .ok());
}

TEST_CASE("registry: update checks the rules and the revision; delete is recorded") {
  ServerFixture f;
  absl::StatusOr<RegistrationEntry> created = f.registry->Create(Entry(kModelServer));
  REQUIRE(created.ok());

  RegistrationEntry change = *created;
  change.x509_svid_ttl = 2 * 3600;  // above inference's 1h cap
  absl::StatusOr<RegistrationEntry> refused = f.registry->Update(change);
  CHECK(refused.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(f.datastore->GetEntry(created->id)->x509_svid_ttl == 0);

  change.x509_svid_ttl = 1200;
  change.revision_number = 0;  // last writer wins
  absl::StatusOr<RegistrationEntry> updated = f.registry->Update(change);
  REQUIRE_MESSAGE(updated.ok(), updated.status().ToString());
  CHECK(updated->revision_number == 1);
  CHECK(updated->x509_svid_ttl == 1200);

  change.revision_number = 7;  // stale
  change.x509_svid_ttl = 1300;
  CHECK(f.registry->Update(change).status().code() == absl::StatusCode::kAborted);
  CHECK(f.datastore->GetEntry(created->id)->x509_svid_ttl == 1200);

  RegistrationEntry missing = Entry(kModelServer);
  missing.id = "no-such-entry";
  CHECK(f.registry->Update(missing).status().code() == absl::StatusCode::kNotFound);
  CHECK(f.registry->Delete("no-such-entry").status().code() == absl::StatusCode::kNotFound);
  CHECK(EntryEvents(*f.datastore).size() == 2);

  CHECK(f.registry->Delete(created->id).ok());
  CHECK(EntryEvents(*f.datastore).size() == 3);
  CHECK(EntryCount(*f.datastore) == 0);
}

TEST_CASE("registry: each write records the parents it concerns") {
  ServerFixture f;
  absl::StatusOr<RegistrationEntry> created = f.registry->Create(Entry(kModelServer));
  REQUIRE(created.ok());
  const std::string server = "spiffe://spinel.ai.example.org/spinel/server";
  RegistrationEntry alias = Entry("spiffe://spinel.ai.example.org/nodes/gpu", server);
  alias.selectors = Selectors({"x509pop:subject:cn:gpu-node"});
  absl::StatusOr<RegistrationEntry> alias_created = f.registry->Create(alias);
  REQUIRE(alias_created.ok());
  RegistrationEntry moved = *created;
  moved.parent_id = Id("spiffe://spinel.ai.example.org/nodes/gpu");
  REQUIRE(f.registry->Update(moved).ok());
  REQUIRE(f.registry->Delete(created->id).ok());
  REQUIRE(f.registry->Delete(alias_created->id).ok());

  const std::vector<ChangeEvent> events = EntryEvents(*f.datastore);
  REQUIRE(events.size() == 5);
  using Parents = std::vector<std::string>;
  CHECK(events[0].parent_ids == Parents{kFixtureAgent});
  // A node alias is under the server's ID (the sync wake-up then wakes every agent).
  CHECK(events[1].parent_ids == Parents{server});
  // An update names the parent it had and the one it has.
  CHECK(events[2].parent_ids == Parents{kFixtureAgent, "spiffe://spinel.ai.example.org/nodes/gpu"});
  CHECK(events[3].parent_ids == Parents{"spiffe://spinel.ai.example.org/nodes/gpu"});
  CHECK(events[3].deleted);
  CHECK(events[4].parent_ids == Parents{server});
}
