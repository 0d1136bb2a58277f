// agent/identity_cache: full snapshots vs deltas, workload matching, peering (trusted and
// federated domains), dropping expired SVIDs, and publishing only on real change.
#include "agent/identity_cache.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "tests/fakes/test_ca.h"

using namespace std::chrono_literals;
using spinel::agent::CachedEntry;
using spinel::agent::CacheSnapshot;
using spinel::agent::IdentityCache;
using spinel::agent::X509SvidRecord;
using spinel::common::SelectorSet;
using spinel::common::TrustDomain;

namespace {

const spinel::common::TimePoint kNow = spinel::common::FromUnixSeconds(1'800'000'000);

spinel::v1::Entry Entry(const std::string& id, const std::string& spiffe_id,
                        const std::vector<std::pair<std::string, std::string>>& selectors,
                        int64_t revision = 0) {
  spinel::v1::Entry entry;
  entry.set_id(id);
  entry.set_spiffe_id(spiffe_id);
  for (const auto& [type, value] : selectors) {
    auto* s = entry.add_selectors();
    s->set_type(type);
    s->set_value(value);
  }
  entry.set_revision_number(revision);
  return entry;
}

SelectorSet Selectors(const std::vector<std::string>& texts) {
  SelectorSet out;
  for (const std::string& text : texts) {
    auto parsed = spinel::common::Selector::Parse(text);
    REQUIRE(parsed.ok());
    out.push_back(*parsed);
  }
  spinel::common::Normalize(out);
  return out;
}

TrustDomain Td(const std::string& name) {
  auto td = TrustDomain::Parse(name);
  REQUIRE(td.ok());
  return *td;
}

// A bundle message for `ca`'s trust domain.
spinel::v1::Bundle BundleOf(const spinel::testing::TestCa& ca) {
  spinel::common::Bundle bundle;
  bundle.trust_domain = ca.td();
  bundle.x509_authorities = {ca.root()};
  auto json = bundle.ToJson();
  REQUIRE(json.ok());
  spinel::v1::Bundle out;
  out.set_trust_domain(ca.td().name());
  out.set_jwks(*json);
  return out;
}

// The shipped peering: inference peers retrieval and tools; training peers nobody.
constexpr char kPolicy[] = R"({"zones":[
  {"name":"inference","trust_domain":"inference.example.org","peers":["retrieval","tools"]},
  {"name":"retrieval","trust_domain":"retrieval.example.org","peers":["inference"]},
  {"name":"tools","trust_domain":"tools.example.org","peers":["inference"]},
  {"name":"training","trust_domain":"training.example.org","peers":[]}]})";

// Counts publishes through a watcher.
struct PublishCounter {
  explicit PublishCounter(IdentityCache& cache) : cache_(cache) {
    id_ = cache.Watch([this](uint64_t generation) {
      ++count;
      last_generation = generation;
    });
  }
  ~PublishCounter() { cache_.Unwatch(id_); }
  IdentityCache& cache_;
  uint64_t id_ = 0;
  int count = 0;
  uint64_t last_generation = 0;
};

X509SvidRecord Svid(const spinel::testing::TestCa& ca, const std::string& entry_id,
                    const std::string& spiffe_id, spinel::common::TimePoint not_before,
                    spinel::common::Duration ttl) {
  auto leaf = ca.Mint(spiffe_id, not_before, ttl);
  auto der = leaf.key.ToPkcs8Der();
  REQUIRE(der.ok());
  auto id = spinel::common::SpiffeId::Parse(spiffe_id);
  REQUIRE(id.ok());
  return X509SvidRecord{
      entry_id,         *id,
      {leaf.cert},      std::make_shared<const spinel::common::SecretData>(std::move(*der)),
      not_before,       not_before,
      not_before + ttl, not_before + ttl / 2};
}

}  // namespace

TEST_CASE(
    "identity cache: a full snapshot replaces everything, a delta changes only what it names") {
  IdentityCache cache;
  CHECK_FALSE(cache.Snapshot()->synced);
  spinel::v1::SyncUpdate full;
  full.set_full_snapshot(true);
  *full.add_entries() = Entry("b", "spiffe://inference.example.org/model", {{"unix", "uid:1000"}});
  *full.add_entries() = Entry("a", "spiffe://retrieval.example.org/index", {{"unix", "uid:2000"}});
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  auto snapshot = cache.Snapshot();
  CHECK(snapshot->synced);
  REQUIRE(snapshot->entries.size() == 2);
  CHECK(snapshot->entries[0].id == "a");  // kept in id order
  CHECK(snapshot->entries[1].id == "b");

  spinel::v1::SyncUpdate delta;
  *delta.add_entries() = Entry("c", "spiffe://tools.example.org/runner", {{"unix", "uid:3000"}});
  delta.add_removed_entry_ids("a");
  REQUIRE(cache.ApplySyncUpdate(delta).ok());
  snapshot = cache.Snapshot();
  REQUIRE(snapshot->entries.size() == 2);
  CHECK(snapshot->entries[0].id == "b");
  CHECK(snapshot->entries[1].id == "c");

  spinel::v1::SyncUpdate second_full;
  second_full.set_full_snapshot(true);
  *second_full.add_entries() = Entry("d", "spiffe://training.example.org/job", {{"unix", "uid:4"}});
  REQUIRE(cache.ApplySyncUpdate(second_full).ok());
  snapshot = cache.Snapshot();
  REQUIRE(snapshot->entries.size() == 1);
  CHECK(snapshot->entries[0].id == "d");
}

TEST_CASE("identity cache: a malformed update is refused whole") {
  IdentityCache cache;
  spinel::v1::SyncUpdate full;
  full.set_full_snapshot(true);
  *full.add_entries() = Entry("a", "spiffe://inference.example.org/model", {{"unix", "uid:1"}});
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  const uint64_t generation = cache.Snapshot()->generation;
  PublishCounter publishes(cache);

  spinel::v1::SyncUpdate bad;
  *bad.add_entries() = Entry("b", "spiffe://inference.example.org/ok", {{"unix", "uid:2"}});
  *bad.add_entries() = Entry("c", "not a spiffe id", {{"unix", "uid:3"}});
  absl::Status status = cache.ApplySyncUpdate(bad);
  CHECK(absl::IsInvalidArgument(status));
  spinel::v1::SyncUpdate bad_policy;
  bad_policy.set_policy("{not json");
  CHECK(absl::IsInvalidArgument(cache.ApplySyncUpdate(bad_policy)));

  CHECK(cache.Snapshot()->generation == generation);
  CHECK(cache.Snapshot()->entries.size() == 1);
  CHECK(publishes.count == 0);
}

TEST_CASE("identity cache: Matching returns entries whose selectors are all the workload's") {
  IdentityCache cache;
  spinel::v1::SyncUpdate full;
  full.set_full_snapshot(true);
  *full.add_entries() = Entry("1", "spiffe://inference.example.org/a", {{"unix", "uid:1000"}});
  *full.add_entries() =
      Entry("2", "spiffe://inference.example.org/b", {{"unix", "uid:1000"}, {"unix", "gid:50"}});
  *full.add_entries() = Entry("3", "spiffe://inference.example.org/c", {{"unix", "uid:2000"}});
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  auto snapshot = cache.Snapshot();

  auto ids = [](const std::vector<const CachedEntry*>& entries) {
    std::vector<std::string> out;
    for (const CachedEntry* e : entries) out.push_back(e->id);
    return out;
  };
  CHECK(ids(snapshot->Matching(Selectors({"unix:uid:1000"}))) == std::vector<std::string>{"1"});
  CHECK(ids(snapshot->Matching(Selectors({"unix:uid:1000", "unix:gid:50", "unix:user:x"}))) ==
        std::vector<std::string>{"1", "2"});
  CHECK(ids(snapshot->Matching(Selectors({"unix:gid:50"}))).empty());
  CHECK(ids(snapshot->Matching(Selectors({}))).empty());
}

TEST_CASE("identity cache: trusted and federated domains follow the zone peering document") {
  IdentityCache cache;
  spinel::v1::SyncUpdate full;
  full.set_full_snapshot(true);
  full.set_policy(kPolicy);
  *full.add_entries() = Entry("inf", "spiffe://inference.example.org/m", {{"unix", "uid:1"}});
  *full.add_entries() = Entry("ret", "spiffe://retrieval.example.org/r", {{"unix", "uid:2"}});
  *full.add_entries() = Entry("trn", "spiffe://training.example.org/t", {{"unix", "uid:3"}});
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  auto snapshot = cache.Snapshot();
  auto of = [&](const std::string& uid) { return snapshot->Matching(Selectors({"unix:" + uid})); };

  CHECK(snapshot->TrustedDomains(of("uid:1")) == std::set<TrustDomain>{Td("inference.example.org"),
                                                                       Td("retrieval.example.org"),
                                                                       Td("tools.example.org")});
  CHECK(snapshot->FederatedDomains(of("uid:1")) ==
        std::set<TrustDomain>{Td("retrieval.example.org"), Td("tools.example.org")});
  CHECK(snapshot->FederatedDomains(of("uid:2")) ==
        std::set<TrustDomain>{Td("inference.example.org")});
  CHECK(snapshot->TrustedDomains(of("uid:3")) == std::set<TrustDomain>{Td("training.example.org")});
  CHECK(snapshot->FederatedDomains(of("uid:3")).empty());
  CHECK(snapshot->TrustedDomains(of("uid:9")).empty());

  // A later policy (a delta) replaces the peering.
  spinel::v1::SyncUpdate repeer;
  repeer.set_policy(R"({"zones":[
    {"name":"inference","trust_domain":"inference.example.org","peers":[]},
    {"name":"training","trust_domain":"training.example.org","peers":["retrieval"]},
    {"name":"retrieval","trust_domain":"retrieval.example.org","peers":["training"]}]})");
  REQUIRE(cache.ApplySyncUpdate(repeer).ok());
  snapshot = cache.Snapshot();
  CHECK(snapshot->FederatedDomains(of("uid:1")).empty());
  CHECK(snapshot->FederatedDomains(of("uid:3")) ==
        std::set<TrustDomain>{Td("retrieval.example.org")});
}

TEST_CASE("identity cache: bundles are replaced by a full snapshot and changed by deltas") {
  auto inference = spinel::testing::TestCa::Root("inference.example.org", kNow);
  auto retrieval = spinel::testing::TestCa::Root("retrieval.example.org", kNow);
  IdentityCache cache;
  spinel::v1::SyncUpdate full;
  full.set_full_snapshot(true);
  *full.add_bundles() = BundleOf(inference);
  *full.add_bundles() = BundleOf(retrieval);
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  CHECK(cache.Snapshot()->bundles.size() == 2);

  spinel::v1::SyncUpdate removal;
  removal.add_removed_trust_domains("retrieval.example.org");
  REQUIRE(cache.ApplySyncUpdate(removal).ok());
  REQUIRE(cache.Snapshot()->bundles.size() == 1);
  CHECK(cache.Snapshot()->bundles.count(Td("inference.example.org")) == 1);

  auto rotated = spinel::testing::TestCa::Root("inference.example.org", kNow);
  spinel::v1::SyncUpdate change;
  *change.add_bundles() = BundleOf(rotated);
  REQUIRE(cache.ApplySyncUpdate(change).ok());
  const auto& bundle = cache.Snapshot()->bundles.at(Td("inference.example.org"));
  REQUIRE(bundle.x509_authorities.size() == 1);
  CHECK(bundle.x509_authorities[0].ToDer() == rotated.root().ToDer());

  spinel::v1::SyncUpdate resync;
  resync.set_full_snapshot(true);
  *resync.add_bundles() = BundleOf(retrieval);
  REQUIRE(cache.ApplySyncUpdate(resync).ok());
  REQUIRE(cache.Snapshot()->bundles.size() == 1);
  CHECK(cache.Snapshot()->bundles.count(Td("retrieval.example.org")) == 1);
}

TEST_CASE("identity cache: SVIDs survive updates that keep the identity and go with it") {
  auto ca = spinel::testing::TestCa::Root("inference.example.org", kNow);
  IdentityCache cache;
  spinel::v1::SyncUpdate full;
  full.set_full_snapshot(true);
  *full.add_entries() = Entry("a", "spiffe://inference.example.org/m", {{"unix", "uid:1"}}, 1);
  *full.add_entries() = Entry("b", "spiffe://inference.example.org/n", {{"unix", "uid:2"}}, 1);
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  cache.StoreX509Svids({Svid(ca, "a", "spiffe://inference.example.org/m", kNow, 1h),
                        Svid(ca, "b", "spiffe://inference.example.org/n", kNow, 1h),
                        // for an entry the cache does not have: dropped
                        Svid(ca, "zzz", "spiffe://inference.example.org/z", kNow, 1h)});
  auto snapshot = cache.Snapshot();
  REQUIRE(snapshot->entries.size() == 2);
  REQUIRE(snapshot->entries[0].svid != nullptr);
  REQUIRE(snapshot->entries[1].svid != nullptr);
  const auto svid_a = snapshot->entries[0].svid;

  // Selectors change: same SPIFFE ID, the SVID stays. The ID changes: the SVID is gone.
  spinel::v1::SyncUpdate delta;
  *delta.add_entries() = Entry("a", "spiffe://inference.example.org/m", {{"unix", "uid:7"}}, 2);
  *delta.add_entries() = Entry("b", "spiffe://inference.example.org/other", {{"unix", "uid:2"}}, 2);
  REQUIRE(cache.ApplySyncUpdate(delta).ok());
  snapshot = cache.Snapshot();
  CHECK(snapshot->entries[0].svid == svid_a);
  CHECK(snapshot->entries[0].selectors == Selectors({"unix:uid:7"}));
  CHECK(snapshot->entries[1].svid == nullptr);

  // An SVID signed for the old identity that arrives late is not stored.
  cache.StoreX509Svids({Svid(ca, "b", "spiffe://inference.example.org/n", kNow, 1h)});
  CHECK(cache.Snapshot()->entries[1].svid == nullptr);
}

TEST_CASE("identity cache: DropExpired removes exactly the expired SVIDs") {
  auto ca = spinel::testing::TestCa::Root("inference.example.org", kNow - 1h);
  IdentityCache cache;
  spinel::v1::SyncUpdate full;
  full.set_full_snapshot(true);
  *full.add_entries() = Entry("short", "spiffe://inference.example.org/s", {{"unix", "uid:1"}});
  *full.add_entries() = Entry("long", "spiffe://inference.example.org/l", {{"unix", "uid:1"}});
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  cache.StoreX509Svids({Svid(ca, "short", "spiffe://inference.example.org/s", kNow, 1min),
                        Svid(ca, "long", "spiffe://inference.example.org/l", kNow, 1h)});
  PublishCounter publishes(cache);

  cache.DropExpired(kNow + 59s);
  CHECK(publishes.count == 0);
  CHECK(cache.Snapshot()->entries[1].svid != nullptr);

  cache.DropExpired(kNow + 1min);  // expires_at is not valid any more
  CHECK(publishes.count == 1);
  auto snapshot = cache.Snapshot();
  CHECK(snapshot->entries[0].id == "long");
  CHECK(snapshot->entries[0].svid != nullptr);
  CHECK(snapshot->entries[1].id == "short");
  CHECK(snapshot->entries[1].svid == nullptr);

  cache.DropExpired(kNow + 2min);
  CHECK(publishes.count == 1);  // nothing more to drop: no publish
}

TEST_CASE("identity cache: every change publishes once with a higher generation; no-ops do not") {
  auto ca = spinel::testing::TestCa::Root("inference.example.org", kNow);
  IdentityCache cache;
  PublishCounter publishes(cache);
  spinel::v1::SyncUpdate full;
  full.set_full_snapshot(true);
  full.set_policy(kPolicy);
  *full.add_entries() = Entry("a", "spiffe://inference.example.org/m", {{"unix", "uid:1"}}, 3);
  *full.add_bundles() = BundleOf(ca);
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  CHECK(publishes.count == 1);
  CHECK(publishes.last_generation == cache.Snapshot()->generation);
  const uint64_t first = cache.Snapshot()->generation;

  // The same full snapshot again (as after a reconnection) changes nothing.
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  CHECK(publishes.count == 1);
  CHECK(cache.Snapshot()->generation == first);
  // An empty delta, a repeated entry revision, removal of an unknown entry: nothing.
  REQUIRE(cache.ApplySyncUpdate(spinel::v1::SyncUpdate()).ok());
  spinel::v1::SyncUpdate same;
  *same.add_entries() = Entry("a", "spiffe://inference.example.org/m", {{"unix", "uid:1"}}, 3);
  same.add_removed_entry_ids("unknown");
  *same.add_bundles() = BundleOf(ca);
  same.set_policy(kPolicy);
  REQUIRE(cache.ApplySyncUpdate(same).ok());
  CHECK(publishes.count == 1);
  cache.StoreX509Svids({});
  cache.StoreX509Svids({Svid(ca, "gone", "spiffe://inference.example.org/gone", kNow, 1h)});
  CHECK(publishes.count == 1);

  // A real change publishes.
  cache.StoreX509Svids({Svid(ca, "a", "spiffe://inference.example.org/m", kNow, 1h)});
  CHECK(publishes.count == 2);
  spinel::v1::SyncUpdate changed;
  *changed.add_entries() = Entry("a", "spiffe://inference.example.org/m", {{"unix", "uid:2"}}, 4);
  REQUIRE(cache.ApplySyncUpdate(changed).ok());
  CHECK(publishes.count == 3);
  CHECK(cache.Snapshot()->generation > first);
  CHECK(publishes.last_generation == cache.Snapshot()->generation);
}

TEST_CASE("identity cache: federates_with adds foreign trust domains to exactly those zones") {
  IdentityCache cache;
  spinel::v1::SyncUpdate full;
  full.set_full_snapshot(true);
  full.set_policy(R"({"zones":[
    {"name":"inference","trust_domain":"inference.example.org","peers":["retrieval"],
     "federates_with":["tools.partner.test","other.partner.test"]},
    {"name":"retrieval","trust_domain":"retrieval.example.org","peers":["inference"]},
    {"name":"training","trust_domain":"training.example.org","peers":[],"federates_with":[]}]})");
  *full.add_entries() = Entry("inf", "spiffe://inference.example.org/m", {{"unix", "uid:1"}});
  *full.add_entries() = Entry("ret", "spiffe://retrieval.example.org/r", {{"unix", "uid:2"}});
  *full.add_entries() = Entry("trn", "spiffe://training.example.org/t", {{"unix", "uid:3"}});
  REQUIRE(cache.ApplySyncUpdate(full).ok());
  auto snapshot = cache.Snapshot();
  auto of = [&](const std::string& uid) { return snapshot->Matching(Selectors({"unix:" + uid})); };

  CHECK(snapshot->TrustedDomains(of("uid:1")) ==
        std::set<TrustDomain>{Td("inference.example.org"), Td("retrieval.example.org"),
                              Td("tools.partner.test"), Td("other.partner.test")});
  CHECK(snapshot->FederatedDomains(of("uid:1")) ==
        std::set<TrustDomain>{Td("retrieval.example.org"), Td("tools.partner.test"),
                              Td("other.partner.test")});
  // Not passed on through peering, not given to zones that do not federate.
  CHECK(snapshot->FederatedDomains(of("uid:2")) ==
        std::set<TrustDomain>{Td("inference.example.org")});
  CHECK(snapshot->TrustedDomains(of("uid:3")) == std::set<TrustDomain>{Td("training.example.org")});

  // A later policy without the federation takes it away (and publishes).
  const uint64_t generation = snapshot->generation;
  spinel::v1::SyncUpdate unfederate;
  unfederate.set_policy(R"({"zones":[
    {"name":"inference","trust_domain":"inference.example.org","peers":["retrieval"],
     "federates_with":["other.partner.test"]},
    {"name":"retrieval","trust_domain":"retrieval.example.org","peers":["inference"]},
    {"name":"training","trust_domain":"training.example.org","peers":[]}]})");
  REQUIRE(cache.ApplySyncUpdate(unfederate).ok());
  snapshot = cache.Snapshot();
  CHECK(snapshot->generation > generation);
  CHECK(snapshot->FederatedDomains(of("uid:1")) ==
        std::set<TrustDomain>{Td("retrieval.example.org"), Td("other.partner.test")});
}

TEST_CASE("identity cache: a malformed federates_with is refused whole") {
  IdentityCache cache;
  const char* bad[] = {
      R"({"zones":[{"name":"a","trust_domain":"a.example.org","federates_with":"p.example.com"}]})",
      R"({"zones":[{"name":"a","trust_domain":"a.example.org","federates_with":[7]}]})",
      R"({"zones":[{"name":"a","trust_domain":"a.example.org","federates_with":["Not A Domain"]}]})",
  };
  for (const char* policy : bad) {
    CAPTURE(policy);
    spinel::v1::SyncUpdate update;
    update.set_full_snapshot(true);
    update.set_policy(policy);
    *update.add_entries() = Entry("a", "spiffe://a.example.org/w", {{"unix", "uid:1"}});
    absl::Status status = cache.ApplySyncUpdate(update);
    CHECK(status.code() == absl::StatusCode::kInvalidArgument);
    CHECK(cache.Snapshot()->entries.empty());  // nothing applied
    CHECK(cache.Snapshot()->federates_with.empty());
  }
}

TEST_CASE(
    "identity cache: WIT-SVIDs are kept for entries that asked, across updates, until expiry") {
  IdentityCache cache;
  auto apply = [&](std::vector<spinel::v1::Entry> entries, bool full) {
    spinel::v1::SyncUpdate update;
    update.set_full_snapshot(full);
    for (auto& e : entries) *update.add_entries() = e;
    REQUIRE(cache.ApplySyncUpdate(update).ok());
  };
  apply({Entry("a", "spiffe://td.example/a", {{"unix", "uid:1"}}, 1),
         Entry("b", "spiffe://td.example/b", {{"unix", "uid:1"}}, 1)},
        true);
  const uint64_t before = cache.Snapshot()->generation;
  cache.RequestWitSvids({"a", "unknown"});
  CHECK(cache.Snapshot()->generation == before + 1);
  cache.RequestWitSvids({"a"});  // already wanted: no publish
  CHECK(cache.Snapshot()->generation == before + 1);
  CHECK(cache.Snapshot()->entries[0].wit_wanted);
  CHECK_FALSE(cache.Snapshot()->entries[1].wit_wanted);

  auto record = [&](const std::string& id, const std::string& spiffe_id, auto expires_at) {
    spinel::agent::WitSvidRecord wit;
    wit.entry_id = id;
    wit.id = *spinel::common::SpiffeId::Parse(spiffe_id);
    wit.token = "token-" + id;
    wit.key_jwk = std::make_shared<const spinel::common::SecretData>(std::string("{}"));
    wit.issued_at = kNow;
    wit.expires_at = expires_at;
    wit.renew_at = kNow + 30min;
    return wit;
  };
  // One for an entry that changed identity meanwhile is dropped.
  cache.StoreWitSvids({record("a", "spiffe://td.example/a", kNow + 1h),
                       record("b", "spiffe://td.example/other", kNow + 1h)});
  REQUIRE(cache.Snapshot()->entries[0].wit != nullptr);
  CHECK(cache.Snapshot()->entries[1].wit == nullptr);

  // A delta and a full resync with the same identity keep both the WIT-SVID and the wish.
  apply({Entry("a", "spiffe://td.example/a", {{"unix", "uid:1"}, {"unix", "gid:2"}}, 2)}, false);
  CHECK(cache.Snapshot()->entries[0].wit != nullptr);
  CHECK(cache.Snapshot()->entries[0].wit_wanted);
  apply({Entry("a", "spiffe://td.example/a", {{"unix", "uid:1"}}, 3),
         Entry("b", "spiffe://td.example/b", {{"unix", "uid:1"}}, 1)},
        true);
  CHECK(cache.Snapshot()->entries[0].wit != nullptr);
  CHECK(cache.Snapshot()->entries[0].wit_wanted);
  // A new SPIFFE ID drops the WIT-SVID (it names the old one) but keeps the wish.
  apply({Entry("a", "spiffe://td.example/renamed", {{"unix", "uid:1"}}, 4)}, false);
  CHECK(cache.Snapshot()->entries[0].wit == nullptr);
  CHECK(cache.Snapshot()->entries[0].wit_wanted);

  cache.StoreWitSvids({record("a", "spiffe://td.example/renamed", kNow + 1h)});
  cache.DropExpired(kNow + 59min);
  CHECK(cache.Snapshot()->entries[0].wit != nullptr);
  cache.DropExpired(kNow + 1h);
  CHECK(cache.Snapshot()->entries[0].wit == nullptr);
}
