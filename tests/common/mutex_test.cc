#include "common/mutex.h"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <thread>
#include <vector>

using spinel::common::CondVar;
using spinel::common::Mutex;
using spinel::common::MutexLock;
using namespace std::chrono_literals;

namespace {

// A counter and a flag under one lock, the shape of most of the tree's users.
struct Shared {
  Mutex mu;
  CondVar changed;
  int count ABSL_GUARDED_BY(mu) = 0;
  bool ready ABSL_GUARDED_BY(mu) = false;

  void SetReady() {
    MutexLock lock(mu);
    ready = true;
    changed.NotifyAll();
  }
};

// Runs `fn` in a forked child and returns how it ended (the raw waitpid status).
template <typename Fn>
int StatusOfChild(Fn fn) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    fn();
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

}  // namespace

TEST_CASE("MutexLock makes concurrent increments exclusive") {
  Shared shared;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&shared] {
      for (int i = 0; i < 10000; ++i) {
        MutexLock lock(shared.mu);
        shared.count = shared.count + 1;  // a read and a write: lost updates without the lock
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  MutexLock lock(shared.mu);
  CHECK(shared.count == 40000);
}

TEST_CASE("TryLock fails while another thread holds the lock and succeeds once it is free") {
  Mutex mu;
  mu.Lock();
  bool taken = true;
  std::thread([&] {
    if (mu.TryLock()) {
      mu.Unlock();
    } else {
      taken = false;
    }
  }).join();
  CHECK_FALSE(taken);
  mu.Unlock();
  REQUIRE(mu.TryLock());
  mu.AssertHeld();
  mu.Unlock();
}

TEST_CASE("MutexLock::Unlock lets another thread in until Lock takes it back") {
  Shared shared;
  MutexLock lock(shared.mu);
  lock.Unlock();
  std::thread([&shared] {
    MutexLock inner(shared.mu);
    shared.count = 7;
  }).join();
  lock.Lock();
  shared.mu.AssertHeld();
  CHECK(shared.count == 7);
}

TEST_CASE("AssertHeld aborts on a thread that does not hold the lock") {
  Mutex mu;
  int unheld = StatusOfChild([&mu] { mu.AssertHeld(); });
  CHECK(WIFSIGNALED(unheld));
  CHECK(WTERMSIG(unheld) == SIGABRT);

  mu.Lock();
  int other_thread = StatusOfChild([&mu] { std::thread([&mu] { mu.AssertHeld(); }).join(); });
  mu.Unlock();
  CHECK(WIFSIGNALED(other_thread));

  int held = StatusOfChild([] {
    Mutex mine;
    MutexLock lock(mine);
    mine.AssertHeld();
  });
  CHECK(WIFEXITED(held));
}

TEST_CASE("CondVar::Wait returns once the predicate holds, with the lock held again") {
  Shared shared;
  std::thread setter([&shared] {
    std::this_thread::sleep_for(20ms);
    shared.SetReady();
  });
  {
    MutexLock lock(shared.mu);
    shared.changed.Wait(
        shared.mu, [&shared]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) { return shared.ready; });
    shared.mu.AssertHeld();
    CHECK(shared.ready);
  }
  setter.join();
}

TEST_CASE("CondVar::WaitFor releases the lock while it waits and times out on a false predicate") {
  Shared shared;
  MutexLock lock(shared.mu);
  std::atomic<bool> writer_done{false};
  std::thread writer([&] {
    MutexLock inner(shared.mu);  // blocks unless the wait below released the lock
    shared.count = 1;
    writer_done = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const bool ready = shared.changed.WaitFor(
      shared.mu, 100ms,
      [&shared]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) { return shared.ready; });
  CHECK_FALSE(ready);
  CHECK(std::chrono::steady_clock::now() - start >= 100ms);
  shared.mu.AssertHeld();
  CHECK(shared.count == 1);  // the writer got in during the wait
  lock.Unlock();
  writer.join();
  CHECK(writer_done);
}

TEST_CASE("CondVar::WaitUntil on the system clock returns true as soon as the predicate holds") {
  Shared shared;
  std::thread setter([&shared] { shared.SetReady(); });
  MutexLock lock(shared.mu);
  const bool ready = shared.changed.WaitUntil(
      shared.mu, std::chrono::system_clock::now() + 10s,
      [&shared]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(shared.mu) { return shared.ready; });
  CHECK(ready);
  lock.Unlock();
  setter.join();
}
