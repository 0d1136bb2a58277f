// agent/svid_rotator against the real server agent API (in process, fake clock): first
// issuance, renewal at half-life before the old SVID expires, re-signing when an entry
// changes, batching, riding out an unreachable server, and the background thread.
#include "agent/svid_rotator.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <thread>

#include "server/api/proto_convert.h"
#include "tests/agent/agent_server_harness.h"
#include "tests/fakes/temp_dir.h"

using namespace std::chrono_literals;
using spinel::agent::CachedEntry;
using spinel::agent::CsrSigner;
using spinel::agent::IdentityCache;
using spinel::agent::SignedSvid;
using spinel::agent::SvidRotator;
using spinel::agent::testing::AgentApiHarness;
using spinel::agent::testing::AgentSide;
using spinel::server::RegistrationEntry;

namespace {

// Passes every batch on to the real server client and records the batch sizes.
class CountingSigner final : public CsrSigner {
 public:
  explicit CountingSigner(CsrSigner& real) : real_(real) {}
  absl::StatusOr<std::vector<SignedSvid>> SignX509Svids(
      const std::vector<std::pair<std::string, std::string>>& csrs) override {
    batch_sizes.push_back(csrs.size());
    return real_.SignX509Svids(csrs);
  }
  std::vector<size_t> batch_sizes;

 private:
  CsrSigner& real_;
};

// A server, an attested agent and its cache.
struct World {
  World() {
    auto config = server.MakeAgentConfig(dir.path());
    config.join_token = server.JoinToken(&agent_id);
    agent = std::make_unique<AgentSide>(config, server.fixture.clock);
    agent->Attest();
    signer = std::make_unique<CountingSigner>(*agent->client);
  }

  // Registers an entry for this agent and gives it to the cache as a Sync delta would.
  RegistrationEntry Register(const std::string& path, int64_t x509_ttl_seconds = 0) {
    RegistrationEntry entry = server.CreateEntry(
        agent_id, "spiffe://inference.ai.example.org/" + path, {"unix:uid:1000"}, x509_ttl_seconds);
    Push(entry);
    return entry;
  }
  void Push(const RegistrationEntry& entry) {
    spinel::v1::SyncUpdate delta;
    *delta.add_entries() = spinel::server::EntryToProto(entry);
    REQUIRE(cache.ApplySyncUpdate(delta).ok());
  }
  const CachedEntry& Cached(const std::string& id) {
    snapshot = cache.Snapshot();
    for (const CachedEntry& e : snapshot->entries) {
      if (e.id == id) return e;
    }
    FAIL("no entry " << id);
    throw std::logic_error("unreachable");
  }
  spinel::testing::FakeClock& clock() { return server.fixture.clock; }

  AgentApiHarness server;
  spinel::testing::TempDir dir;
  spinel::common::SpiffeId agent_id;
  std::unique_ptr<AgentSide> agent;
  std::unique_ptr<CountingSigner> signer;
  IdentityCache cache;
  std::shared_ptr<const spinel::agent::CacheSnapshot> snapshot;
};

// The SVID's key is the private half of the leaf's public key, and the leaf names the entry.
void CheckSvidMatches(const CachedEntry& entry) {
  REQUIRE(entry.svid != nullptr);
  const auto& svid = *entry.svid;
  REQUIRE(!svid.chain.empty());
  CHECK(svid.chain.front().UriSans() == std::vector<std::string>{entry.spiffe_id.ToString()});
  CHECK(svid.id == entry.spiffe_id);
  auto key = spinel::common::PrivateKey::FromPkcs8Der(svid.key_der->view());
  REQUIRE(key.ok());
  auto leaf_key = svid.chain.front().GetPublicKey();
  REQUIRE(leaf_key.ok());
  CHECK(key->Public()->Equals(*leaf_key));
  CHECK(svid.expires_at == svid.chain.front().NotAfter());
  // Renewal at half the lifetime counted from the request (the server backdates notBefore a
  // little), +-10% of that half.
  CHECK(svid.not_before <= svid.issued_at);
  const auto half = (svid.expires_at - svid.issued_at) / 2;
  CHECK(svid.renew_at >= svid.issued_at + half - half / 10 - 1s);
  CHECK(svid.renew_at <= svid.issued_at + half + half / 10 + 1s);
}

}  // namespace

TEST_CASE("svid rotator: signs an SVID for every entry that has none, with node-made keys") {
  World world;
  auto a = world.Register("a");
  auto b = world.Register("b", 600);
  SvidRotator rotator(world.cache, *world.signer, world.clock(), 500);

  SvidRotator::PassResult pass = rotator.RunOnce();
  CHECK(pass.renewed == 2);
  CHECK(pass.failed == 0);
  CHECK(world.signer->batch_sizes == std::vector<size_t>{2});
  CheckSvidMatches(world.Cached(a.id));
  CheckSvidMatches(world.Cached(b.id));
  const auto svid_a = world.Cached(a.id).svid;
  const auto svid_b = world.Cached(b.id).svid;
  CHECK(svid_b->expires_at - svid_b->not_before <= 600s + 60s);  // the entry's TTL, not 30m
  CHECK(svid_a->expires_at - svid_a->not_before > 20min);        // the zone default, 30m
  // The next pass: the earliest renewal, or the 30s idle pass when that comes first.
  CHECK(pass.next_due == std::min({svid_a->renew_at, svid_b->renew_at, world.clock().Now() + 30s}));

  // Nothing due: a second pass signs nothing.
  SvidRotator::PassResult idle = rotator.RunOnce();
  CHECK(idle.renewed == 0);
  CHECK(world.signer->batch_sizes.size() == 1);
}

TEST_CASE("svid rotator: renews at half-life, long before the old SVID expires") {
  World world;
  auto entry = world.Register("model", 600);
  SvidRotator rotator(world.cache, *world.signer, world.clock(), 500);
  REQUIRE(rotator.RunOnce().renewed == 1);
  const auto first = world.Cached(entry.id).svid;

  world.clock().Set(first->renew_at - 1s);
  CHECK(rotator.RunOnce().renewed == 0);
  CHECK(world.Cached(entry.id).svid == first);

  world.clock().Set(first->renew_at);
  SvidRotator::PassResult pass = rotator.RunOnce();
  CHECK(pass.renewed == 1);
  const auto second = world.Cached(entry.id).svid;
  REQUIRE(second != nullptr);
  CHECK(second != first);
  CHECK(second->chain.front().SerialHex() != first->chain.front().SerialHex());
  CHECK(second->issued_at < first->expires_at);  // served before the old one runs out
  CHECK(first->expires_at - second->issued_at >= 600s * 4 / 10);
  CHECK(second->expires_at > first->expires_at);
  CHECK(pass.next_due == std::min(second->renew_at, world.clock().Now() + 30s));
  CheckSvidMatches(world.Cached(entry.id));
}

TEST_CASE("svid rotator: an entry change re-signs at once; removal stops renewal") {
  World world;
  auto entry = world.Register("model", 600);
  auto other = world.Register("other", 600);
  SvidRotator rotator(world.cache, *world.signer, world.clock(), 500);
  REQUIRE(rotator.RunOnce().renewed == 2);
  const auto first = world.Cached(entry.id).svid;
  const auto untouched = world.Cached(other.id).svid;

  // The operator shortens the TTL and adds a DNS name; the server pushes the new revision.
  world.clock().Advance(10s);
  entry.x509_svid_ttl = 300;
  entry.dns_names = {"model.example.org"};
  auto updated = world.server.fixture.registry->Update(entry);
  REQUIRE_MESSAGE(updated.ok(), updated.status().ToString());
  world.Push(*updated);
  CHECK(world.Cached(entry.id).svid == first);  // still served until the new one arrives

  SvidRotator::PassResult pass = rotator.RunOnce();
  CHECK(pass.renewed == 1);  // only the changed entry
  const auto resigned = world.Cached(entry.id).svid;
  REQUIRE(resigned != nullptr);
  CHECK(resigned != first);
  CHECK(resigned->chain.front().DnsSans() == std::vector<std::string>{"model.example.org"});
  CHECK(resigned->expires_at - resigned->not_before <= 300s + 60s);
  CHECK(world.Cached(other.id).svid == untouched);
  CHECK(rotator.RunOnce().renewed == 0);  // the same revision again: nothing to do

  // Removed: never renewed again, even when the other entry is.
  spinel::v1::SyncUpdate removal;
  removal.add_removed_entry_ids(entry.id);
  REQUIRE(world.cache.ApplySyncUpdate(removal).ok());
  world.clock().Set(untouched->renew_at);
  const size_t batches = world.signer->batch_sizes.size();
  CHECK(rotator.RunOnce().renewed == 1);
  REQUIRE(world.signer->batch_sizes.size() == batches + 1);
  CHECK(world.signer->batch_sizes.back() == 1);
  CHECK(world.cache.Snapshot()->entries.size() == 1);
}

TEST_CASE("svid rotator: CSRs go to the server in batches of the configured size") {
  World world;
  for (int i = 0; i < 5; ++i) world.Register("w" + std::to_string(i));
  SvidRotator rotator(world.cache, *world.signer, world.clock(), 2);
  SvidRotator::PassResult pass = rotator.RunOnce();
  CHECK(pass.renewed == 5);
  CHECK(world.signer->batch_sizes == std::vector<size_t>{2, 2, 1});
  for (const CachedEntry& e : world.cache.Snapshot()->entries) CheckSvidMatches(e);
}

TEST_CASE("svid rotator: renewals coming due within a tenth of the lifetime share one pass") {
  World world;
  std::vector<RegistrationEntry> short_lived;
  for (int i = 0; i < 3; ++i) short_lived.push_back(world.Register("s" + std::to_string(i), 600));
  auto long_lived = world.Register("long", 3600);
  SvidRotator rotator(world.cache, *world.signer, world.clock(), 500);
  REQUIRE(rotator.RunOnce().renewed == 4);
  std::vector<std::shared_ptr<const spinel::agent::X509SvidRecord>> first;
  spinel::common::TimePoint earliest = spinel::common::TimePoint::max();
  for (const auto& e : short_lived) {
    first.push_back(world.Cached(e.id).svid);
    earliest = std::min(earliest, first.back()->renew_at);
  }
  const auto long_svid = world.Cached(long_lived.id).svid;
  // Jittered renewals of equal lifetimes lie within 20% of half the lifetime of each other,
  // inside the 10% window: the first one due takes the others along.
  world.clock().Set(earliest - 1s);
  CHECK(rotator.RunOnce().renewed == 0);
  world.clock().Set(earliest);
  const uint64_t generation = world.cache.Snapshot()->generation;
  SvidRotator::PassResult pass = rotator.RunOnce();
  CHECK(pass.renewed == 3);
  CHECK(world.signer->batch_sizes == std::vector<size_t>{4, 3});
  CHECK(world.cache.Snapshot()->generation == generation + 1);  // one publish for the pass
  for (size_t i = 0; i < short_lived.size(); ++i) {
    const auto renewed = world.Cached(short_lived[i].id).svid;
    CHECK(renewed != first[i]);
    CHECK(renewed->issued_at < first[i]->expires_at);
    CheckSvidMatches(world.Cached(short_lived[i].id));
  }
  // The hour-long SVID (renewal around 30 min) is not pulled forward by 5 minutes' passes.
  CHECK(world.Cached(long_lived.id).svid == long_svid);
}

TEST_CASE("svid rotator: with the server down it keeps valid SVIDs, drops expired ones, retries") {
  World world;
  auto entry = world.Register("model", 600);
  SvidRotator rotator(world.cache, *world.signer, world.clock(), 500);
  REQUIRE(rotator.RunOnce().renewed == 1);
  const auto first = world.Cached(entry.id).svid;

  world.server.Stop();
  world.clock().Set(first->renew_at);
  SvidRotator::PassResult failed = rotator.RunOnce();
  CHECK(failed.renewed == 0);
  CHECK(failed.failed == 1);
  CHECK(world.Cached(entry.id).svid == first);   // still valid: still served
  CHECK(failed.next_due > world.clock().Now());  // a retry is scheduled, not a busy loop
  CHECK(failed.next_due <= world.clock().Now() + 10s);

  // Not retried before the retry time.
  const size_t attempts = world.signer->batch_sizes.size();
  CHECK(rotator.RunOnce().failed == 0);
  CHECK(world.signer->batch_sizes.size() == attempts);

  world.clock().Set(first->expires_at);
  rotator.RunOnce();
  CHECK(world.Cached(entry.id).svid == nullptr);  // expired: never served

  // Back: the next retry signs again (the channel may need a moment to reconnect).
  world.server.Start();
  int renewed = 0;
  for (int i = 0; i < 100 && renewed == 0; ++i) {
    world.clock().Advance(6s);
    renewed = rotator.RunOnce().renewed;
    if (renewed == 0) std::this_thread::sleep_for(100ms);
  }
  CHECK(renewed == 1);
  CheckSvidMatches(world.Cached(entry.id));
}

TEST_CASE("svid rotator: the background thread signs new entries as soon as they arrive") {
  World world;
  SvidRotator rotator(world.cache, *world.signer, world.clock(), 500);
  rotator.Start();
  auto entry = world.Register("late");
  bool signed_svid = false;
  for (int i = 0; i < 200 && !signed_svid; ++i) {
    std::this_thread::sleep_for(25ms);
    signed_svid = world.Cached(entry.id).svid != nullptr;
  }
  rotator.Stop();
  CHECK(signed_svid);
}
