#include "common/recursive_mutex.h"

#include <doctest/doctest.h>

#include <thread>
#include <vector>

TEST_CASE(
    "RecursiveMutex is taken again by its holder and excludes other threads until fully released") {
  struct Counter {
    spinel::common::RecursiveMutex mu;
    int count ABSL_GUARDED_BY(mu) = 0;
    // Takes the lock and, holding it, calls AddOne, which takes it again: the shape of a
    // callback that re-enters its object (the analysis cannot see through the call).
    void AddTwice() {
      spinel::common::RecursiveMutexLock outer(mu);
      count = count + 1;
      AddOne();  // would deadlock on a Mutex
    }
    void AddOne() {
      spinel::common::RecursiveMutexLock inner(mu);
      count = count + 1;
    }
  } counter;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < 5000; ++i) counter.AddTwice();
    });
  }
  for (std::thread& thread : threads) thread.join();
  spinel::common::RecursiveMutexLock lock(counter.mu);
  CHECK(counter.count == 40000);
}
