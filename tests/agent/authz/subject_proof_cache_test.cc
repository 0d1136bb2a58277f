// SubjectProofCache with ProveSubject: real JWT-SVIDs and X509-SVID chains from test CAs,
// proved against a real IdentityCache whose bundles change through real sync updates, on the
// injected clock. A cached proof must never outlive its SVID or the authority that made it.
#include "agent/authz/subject_proof_cache.h"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "agent/authz/subject_proof.h"
#include "tests/agent/authz/authz_world.h"

namespace spinel::agent {
namespace {

using spinel::testing::AuthzWorld;
using namespace std::chrono_literals;

absl::StatusOr<ProvedSubject> Prove(AuthzWorld& world, SubjectProofCache& cache,
                                    const v1::AuthorizeRequest& request) {
  return ProveSubject(request, *world.cache.Snapshot(), world.clock.Now(), &cache);
}

v1::AuthorizeRequest WithJwt(const std::string& token, const std::string& audience = "") {
  v1::AuthorizeRequest request = AuthzWorld::Request(token, "tool:x", "invoke");
  request.set_audience(audience);
  return request;
}

v1::AuthorizeRequest WithChain(const v1::X509SvidChain& chain) {
  v1::AuthorizeRequest request;
  *request.mutable_x509_svid() = chain;
  return request;
}

// A delta sync update replacing the bundle of `td` with `bundle`.
void PushBundle(AuthzWorld& world, const common::Bundle& bundle) {
  spinel::v1::SyncUpdate update;
  auto jwks = bundle.ToJson();
  REQUIRE(jwks.ok());
  auto* proto = update.add_bundles();
  proto->set_trust_domain(bundle.trust_domain.name());
  proto->set_jwks(*jwks);
  absl::Status applied = world.cache.ApplySyncUpdate(update);
  REQUIRE_MESSAGE(applied.ok(), applied.ToString());
}

void CheckRefused(const absl::StatusOr<ProvedSubject>& proved) {
  REQUIRE(!proved.ok());
  CHECK(proved.status().code() == absl::StatusCode::kUnauthenticated);
}

TEST_CASE("subject proof cache: the same JWT-SVID is proved once, then served from the cache") {
  AuthzWorld world;
  SubjectProofCache cache;
  const std::string token = world.Jwt(AuthzWorld::kInference, "/model-server");
  for (int i = 0; i < 3; ++i) {
    auto proved = Prove(world, cache, WithJwt(token));
    REQUIRE_MESSAGE(proved.ok(), proved.status().ToString());
    CHECK(proved->id.ToString() == "spiffe://inference.ai.example.org/model-server");
    CHECK(proved->proof == "jwt-svid");
  }
  CHECK(cache.stats().misses == 1);
  CHECK(cache.stats().hits == 2);
  CHECK(cache.stats().size == 1);
}

TEST_CASE("subject proof cache: a proof for one audience does not prove another") {
  AuthzWorld world;
  SubjectProofCache cache;
  const std::string token = world.Jwt(AuthzWorld::kTools, "/runner", {"jira-guard"});
  REQUIRE(Prove(world, cache, WithJwt(token, "jira-guard")).ok());
  CheckRefused(Prove(world, cache, WithJwt(token)));  // default audience spinel-authorize
  CHECK(Prove(world, cache, WithJwt(token, "jira-guard")).ok());
  CHECK(cache.stats().hits == 1);
}

TEST_CASE("subject proof cache: failed proofs are never cached") {
  AuthzWorld world;
  SubjectProofCache cache;
  // Signed by the unknown zone's key: no bundle has its kid.
  const std::string forged = world.Jwt(AuthzWorld::kOther, "/x");
  CheckRefused(Prove(world, cache, WithJwt(forged)));
  CheckRefused(Prove(world, cache, WithJwt(forged)));
  CHECK(cache.stats().hits == 0);
  CHECK(cache.stats().size == 0);
}

TEST_CASE("subject proof cache: a cached JWT-SVID stops proving at its expiry") {
  AuthzWorld world;
  SubjectProofCache cache;
  const std::string token =
      world.Jwt(AuthzWorld::kRetrieval, "/retriever", {"spinel-authorize"}, 2min);
  REQUIRE(Prove(world, cache, WithJwt(token)).ok());
  world.clock.Advance(1min);
  REQUIRE(Prove(world, cache, WithJwt(token)).ok());
  CHECK(cache.stats().hits == 1);
  world.clock.Advance(2min);  // past exp + 30 s leeway
  CheckRefused(Prove(world, cache, WithJwt(token)));
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().size == 0);
}

TEST_CASE("subject proof cache: a cached X509-SVID chain stops proving when its leaf expires") {
  AuthzWorld world;
  SubjectProofCache cache;
  const v1::X509SvidChain chain = world.X509(AuthzWorld::kInference, "/m", 10min);
  REQUIRE(Prove(world, cache, WithChain(chain)).ok());
  auto again = Prove(world, cache, WithChain(chain));
  REQUIRE(again.ok());
  CHECK(again->proof == "x509-svid");
  CHECK(again->id.ToString() == "spiffe://inference.ai.example.org/m");
  CHECK(cache.stats().hits == 1);
  world.clock.Advance(11min);
  CheckRefused(Prove(world, cache, WithChain(chain)));
  CHECK(cache.stats().hits == 1);
}

TEST_CASE("subject proof cache: a removed JWT key stops validating at once") {
  AuthzWorld world;
  SubjectProofCache cache;
  const std::string token = world.Jwt(AuthzWorld::kInference, "/model-server");
  REQUIRE(Prove(world, cache, WithJwt(token)).ok());
  REQUIRE(Prove(world, cache, WithJwt(token)).ok());
  REQUIRE(cache.stats().hits == 1);
  common::Bundle rotated = world.zone(AuthzWorld::kInference).MakeBundle();
  rotated.jwt_authorities.clear();  // the server removed the key
  PushBundle(world, rotated);
  CheckRefused(Prove(world, cache, WithJwt(token)));
  CHECK(cache.stats().invalidations == 1);
  CHECK(cache.stats().hits == 1);
}

TEST_CASE("subject proof cache: a replaced X.509 authority stops validating at once") {
  AuthzWorld world;
  SubjectProofCache cache;
  const v1::X509SvidChain chain = world.X509(AuthzWorld::kTraining, "/trainer");
  REQUIRE(Prove(world, cache, WithChain(chain)).ok());
  spinel::testing::TestCa other =
      spinel::testing::TestCa::Root(AuthzWorld::kTraining, world.clock.Now() - 1h, 48h);
  common::Bundle rotated = world.zone(AuthzWorld::kTraining).MakeBundle();
  rotated.x509_authorities = {other.root()};
  PushBundle(world, rotated);
  CheckRefused(Prove(world, cache, WithChain(chain)));
  CHECK(cache.stats().hits == 0);
  // The bundle back: proved again (not from a stale entry: the cache was emptied).
  PushBundle(world, world.zone(AuthzWorld::kTraining).MakeBundle());
  CHECK(Prove(world, cache, WithChain(chain)).ok());
  CHECK(cache.stats().hits == 0);
  CHECK(cache.stats().invalidations == 1);
}

TEST_CASE("subject proof cache: a new snapshot with the same bundles keeps the proofs") {
  AuthzWorld world;
  SubjectProofCache cache;
  const std::string token = world.Jwt(AuthzWorld::kInference, "/model-server");
  REQUIRE(Prove(world, cache, WithJwt(token)).ok());
  const uint64_t before = world.cache.Snapshot()->generation;
  world.Push(spinel::testing::ShippedPolicyDocument(false));  // policy changed, bundles not
  REQUIRE(world.cache.Snapshot()->generation != before);
  REQUIRE(Prove(world, cache, WithJwt(token)).ok());
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().invalidations == 0);
}

TEST_CASE("subject proof cache: bounded, the least recently used proof is evicted first") {
  AuthzWorld world;
  SubjectProofCache cache(2);
  const std::string a = world.Jwt(AuthzWorld::kInference, "/a");
  const std::string b = world.Jwt(AuthzWorld::kInference, "/b");
  const std::string c = world.Jwt(AuthzWorld::kInference, "/c");
  REQUIRE(Prove(world, cache, WithJwt(a)).ok());
  REQUIRE(Prove(world, cache, WithJwt(b)).ok());
  REQUIRE(Prove(world, cache, WithJwt(a)).ok());  // hit: a is now the most recent
  REQUIRE(Prove(world, cache, WithJwt(c)).ok());  // evicts b
  CHECK(cache.stats().size == 2);
  const uint64_t hits = cache.stats().hits;
  auto proved_a = Prove(world, cache, WithJwt(a));
  REQUIRE(proved_a.ok());
  CHECK(proved_a->id.ToString() == "spiffe://inference.ai.example.org/a");
  CHECK(cache.stats().hits == hits + 1);
  REQUIRE(Prove(world, cache, WithJwt(b)).ok());  // proved again
  CHECK(cache.stats().hits == hits + 1);
}

TEST_CASE("subject proof cache: keys separate kinds, audiences and chains") {
  v1::X509SvidChain one, two;
  one.add_certificates("ab");
  two.add_certificates("a");
  two.add_certificates("b");
  CHECK(*SubjectProofKeyX509(one) != *SubjectProofKeyX509(two));
  CHECK(*SubjectProofKeyJwt("aud", "x.y") != *SubjectProofKeyJwt("audx", ".y"));
  CHECK(*SubjectProofKeyJwt("a", "t") == *SubjectProofKeyJwt("a", "t"));
}

// Run under ThreadSanitizer too (agent_tsan_tests): provers on four threads share the cache while
// the bundles change under them. Every cached answer must be the answer a full proof gives on
// the same snapshot: a proof made under the old bundles is never served under the new ones.
TEST_CASE("subject proof cache: concurrent provers agree with a full proof while bundles change") {
  AuthzWorld world;
  SubjectProofCache cache(8);  // small, so eviction runs concurrently too
  const std::string token = world.Jwt(AuthzWorld::kInference, "/model-server");
  const v1::X509SvidChain chain = world.X509(AuthzWorld::kTraining, "/trainer");
  common::Bundle without_keys = world.zone(AuthzWorld::kInference).MakeBundle();
  without_keys.jwt_authorities.clear();
  const common::TimePoint now = world.clock.Now();

  std::atomic<bool> stop{false};
  std::atomic<int> disagreements{0}, proofs{0};
  std::vector<std::thread> provers;
  for (int t = 0; t < 4; ++t) {
    provers.emplace_back([&, t] {
      const v1::AuthorizeRequest requests[] = {WithJwt(token), WithChain(chain),
                                               WithJwt(token, "aud-" + std::to_string(t))};
      for (size_t i = 0; !stop.load(); ++i) {
        const v1::AuthorizeRequest& request = requests[i % std::size(requests)];
        const std::shared_ptr<const CacheSnapshot> snapshot = world.cache.Snapshot();
        const bool cached = ProveSubject(request, *snapshot, now, &cache).ok();
        const bool full = ProveSubject(request, *snapshot, now).ok();
        if (cached != full) disagreements.fetch_add(1);
        proofs.fetch_add(1);
      }
    });
  }
  for (int change = 0; change < 40; ++change) {
    PushBundle(world,
               change % 2 == 0 ? without_keys : world.zone(AuthzWorld::kInference).MakeBundle());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (std::thread& prover : provers) prover.join();
  CHECK(disagreements.load() == 0);
  CHECK(proofs.load() > 40);
  CHECK(cache.stats().invalidations > 0);
  CHECK(cache.stats().size <= 8);
}

}  // namespace
}  // namespace spinel::agent
