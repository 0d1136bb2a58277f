// WptReplayCache (common/replay_cache.h): keyed by (subject, jti), kept until the retention
// time, bounded and failing closed when full, safe under concurrent use.
#include "common/replay_cache.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using spinel::common::FromUnixSeconds;
using spinel::common::WptReplayCache;
using std::chrono::seconds;

TEST_CASE("replay cache: a jti is refused again until its retention passes") {
  WptReplayCache cache(10);
  const auto now = FromUnixSeconds(1000);
  CHECK(cache.CheckAndRecord("spiffe://example.org/a", "j1", now + seconds(90), now).ok());
  auto again = cache.CheckAndRecord("spiffe://example.org/a", "j1", now + seconds(90), now);
  CHECK(again.code() == absl::StatusCode::kAlreadyExists);
  CHECK(std::string(again.message()).find("j1") == std::string::npos);  // never echoes the jti
  // Another subject with the same jti is another key.
  CHECK(cache.CheckAndRecord("spiffe://example.org/b", "j1", now + seconds(90), now).ok());
  CHECK(cache.CheckAndRecord("spiffe://example.org/a", "j1", now + seconds(90), now + seconds(89))
            .code() == absl::StatusCode::kAlreadyExists);
  // At the retention time the entry is evicted and the key is new again.
  CHECK(cache.CheckAndRecord("spiffe://example.org/a", "j1", now + seconds(200), now + seconds(90))
            .ok());
  CHECK(cache.size() == 1);  // b's entry (same retention) was evicted with it
}

TEST_CASE("replay cache: full of live entries it refuses rather than forgets") {
  WptReplayCache cache(3);
  const auto now = FromUnixSeconds(1000);
  for (const char* jti : {"a", "b", "c"}) {
    REQUIRE(cache.CheckAndRecord("s", jti, now + seconds(60), now).ok());
  }
  auto full = cache.CheckAndRecord("s", "d", now + seconds(60), now);
  CHECK(full.code() == absl::StatusCode::kResourceExhausted);
  // The live entries are all still remembered.
  CHECK(cache.CheckAndRecord("s", "a", now + seconds(60), now).code() ==
        absl::StatusCode::kAlreadyExists);
  // Once they expire there is room again.
  CHECK(cache.CheckAndRecord("s", "d", now + seconds(120), now + seconds(60)).ok());
  CHECK(cache.size() == 1);
}

TEST_CASE("replay cache: refuses empty or oversized jtis and past retention") {
  WptReplayCache cache(3);
  const auto now = FromUnixSeconds(1000);
  CHECK(cache.CheckAndRecord("s", "", now + seconds(1), now).code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(cache
            .CheckAndRecord("s", std::string(spinel::common::kMaxWptJtiBytes + 1, 'x'),
                            now + seconds(1), now)
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(cache.CheckAndRecord("s", "x", now, now).code() == absl::StatusCode::kInvalidArgument);
  CHECK(cache.size() == 0);
}

TEST_CASE("replay cache: concurrent presenters of one jti, exactly one wins") {
  WptReplayCache cache(10'000);
  const auto now = FromUnixSeconds(1000);
  std::atomic<int> accepted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        if (cache.CheckAndRecord("s", "jti-" + std::to_string(i), now + seconds(60), now).ok()) {
          ++accepted;
        }
        (void)cache.CheckAndRecord("s" + std::to_string(t), "own", now + seconds(60), now);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(accepted.load() == 500);
  CHECK(cache.size() == 508);
}
