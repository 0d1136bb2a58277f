// ExchangeCache: keys separate every input, hits only while fresh (at least half the lifetime
// left), expired entries evicted, bounded size.
#include "agent/authz/exchange_cache.h"

#include <doctest/doctest.h>

#include <set>

namespace spinel::agent {
namespace {

using namespace std::chrono_literals;

const common::TimePoint kT0 = common::FromUnixSeconds(1'700'000'000);

CachedExchange Entry(const std::string& token, common::TimePoint received,
                     common::Duration lifetime) {
  CachedExchange entry;
  entry.response.set_token(token);
  entry.response.set_expires_at(common::ToUnixSeconds(received + lifetime));
  entry.received_at = received;
  entry.expires_at = received + lifetime;
  return entry;
}

TEST_CASE("exchange cache: every part of the key matters, and no part is ambiguous") {
  ExchangeCacheKeyParts base{"token", "spiffe://a/b", "thumb", "aud", 0};
  std::set<std::string> keys;
  auto add = [&](ExchangeCacheKeyParts parts) {
    auto key = ExchangeCacheKey(parts);
    REQUIRE(key.ok());
    CHECK(key->find("token") == std::string::npos);
    keys.insert(*key);
  };
  add(base);
  add(base);
  CHECK(keys.size() == 1);
  add({"token2", "spiffe://a/b", "thumb", "aud", 0});
  add({"token", "spiffe://a/c", "thumb", "aud", 0});
  add({"token", "spiffe://a/b", "thumb2", "aud", 0});
  add({"token", "spiffe://a/b", "thumb", "aud2", 0});
  add({"token", "spiffe://a/b", "thumb", "aud", 60});
  add({"tokenspiffe://a/b", "", "thumb", "aud", 0});
  CHECK(keys.size() == 7);
}

TEST_CASE("exchange cache: a token is served while at least half of its lifetime is left") {
  ExchangeCache cache;
  cache.Insert("k", Entry("t", kT0, 10min), kT0);
  CHECK(cache.size() == 1);
  CHECK(!cache.Find("other", kT0).has_value());
  auto hit = cache.Find("k", kT0 + 5min);
  REQUIRE(hit.has_value());
  CHECK(hit->response.token() == "t");
  CHECK(!cache.Find("k", kT0 + 5min + 1s).has_value());
  CHECK(cache.size() == 0);                                // the stale entry was dropped
  cache.Insert("k", Entry("t", kT0, 10min), kT0 + 11min);  // already expired: not stored
  CHECK(cache.size() == 0);
}

TEST_CASE("exchange cache: expired entries are evicted, a full cache drops the soonest to expire") {
  ExchangeCache cache(2);
  cache.Insert("short", Entry("a", kT0, 1min), kT0);
  cache.Insert("long", Entry("b", kT0, 10min), kT0);
  cache.Insert("mid", Entry("c", kT0, 5min), kT0);  // full: "short" goes
  CHECK(cache.size() == 2);
  CHECK(!cache.Find("short", kT0).has_value());
  CHECK(cache.Find("long", kT0).has_value());
  CHECK(cache.Find("mid", kT0).has_value());
  cache.Insert("new", Entry("d", kT0 + 6min, 10min), kT0 + 6min);  // "mid" expired: evicted
  CHECK(cache.size() == 2);
  CHECK(!cache.Find("mid", kT0 + 6min).has_value());
  cache.Insert("long", Entry("e", kT0 + 6min, 10min), kT0 + 6min);  // replaces
  CHECK(cache.size() == 2);
  CHECK(cache.Find("long", kT0 + 6min)->response.token() == "e");
}

}  // namespace
}  // namespace spinel::agent
