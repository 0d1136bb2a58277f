// SigningLimiter (server/api/agent/signing_limiter.cc): per-agent token buckets on the fake clock,
// and the concurrent-signing slots that queue rather than refuse.
#include "server/api/agent/signing_limiter.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/fakes/fake_clock.h"

using spinel::server::SigningLimiter;
using spinel::testing::FakeClock;
using namespace std::chrono_literals;

TEST_CASE("signing limiter: each agent has its own bucket, refilled over time") {
  FakeClock clock;
  SigningLimiter limiter(4, 10, clock);
  CHECK(limiter.Admit("agent-a", 6).ok());
  CHECK(limiter.Admit("agent-a", 4).ok());
  absl::Status refused = limiter.Admit("agent-a", 1);
  CHECK(refused.code() == absl::StatusCode::kResourceExhausted);
  CHECK(refused.message().find("agent-a") != std::string_view::npos);
  CHECK(limiter.Admit("agent-b", 10).ok());  // not affected by agent-a

  clock.Advance(500ms);  // half a second: 5 more
  CHECK(limiter.Admit("agent-a", 5).ok());
  CHECK(limiter.Admit("agent-a", 1).code() == absl::StatusCode::kResourceExhausted);

  clock.Advance(1h);  // the burst is capped at one second's worth
  CHECK(limiter.Admit("agent-a", 10).ok());
  CHECK(limiter.Admit("agent-a", 1).code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("signing limiter: a batch above the burst passes once on a full bucket, then waits") {
  FakeClock clock;
  SigningLimiter limiter(4, 10, clock);
  CHECK(limiter.Admit("agent-a", 25).ok());
  clock.Advance(1s);  // the debt of 15 is paid back first
  CHECK(limiter.Admit("agent-a", 1).code() == absl::StatusCode::kResourceExhausted);
  clock.Advance(2s);
  CHECK(limiter.Admit("agent-a", 10).ok());
}

TEST_CASE("signing limiter: a clock going backwards does not add tokens") {
  FakeClock clock;
  SigningLimiter limiter(4, 10, clock);
  CHECK(limiter.Admit("agent-a", 10).ok());
  clock.Advance(-10s);
  CHECK(limiter.Admit("agent-a", 1).code() == absl::StatusCode::kResourceExhausted);
}

TEST_CASE("signing limiter: at most max_concurrent slots are held; the rest queue") {
  FakeClock clock;
  SigningLimiter limiter(2, 10, clock);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      SigningLimiter::Slot slot(limiter);
      int now = ++inside;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(5ms);  // hold the slot while others try to enter
      --inside;
      ++done;
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(done == 8);  // nobody was refused
  CHECK(most <= 2);
  CHECK(most >= 1);
}

TEST_CASE("signing limiter: zero concurrency is treated as one slot, not a deadlock") {
  FakeClock clock;
  SigningLimiter limiter(0, 10, clock);
  std::atomic<bool> entered{false};
  std::thread worker([&] {
    SigningLimiter::Slot slot(limiter);
    entered = true;
  });
  worker.join();
  CHECK(entered);
}
