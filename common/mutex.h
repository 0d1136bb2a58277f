// Mutex, MutexLock and CondVar: the tree's locks, annotated for clang's thread-safety analysis
// (-Wthread-safety, an error in clang builds: CMakeLists.txt SPINEL_THREAD_SAFETY_ANALYSIS).
//
// A member written `T value_ ABSL_GUARDED_BY(mu_);` can then only be touched while `mu_` is
// held, and a helper declared `ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_)` only called with it held;
// the compiler rejects any other access. scripts/check_thread_safety.sh proves the analysis is
// on (tests/common/mutex_misuse_fixture.cc).
//
// A thin wrapper over std::mutex and std::condition_variable, not absl::Mutex: Debian's abseil
// is not built for ThreadSanitizer, which then cannot see absl's locks and reports every access
// they order as a race; libstdc++'s mutex is pthreads, which TSan intercepts.
//
// Contract:
// - Mutex is not recursive: locking it twice on one thread deadlocks (undefined behavior, as
//   for std::mutex). Neither Mutex nor CondVar can be copied or moved.
// - AssertHeld aborts unless the calling thread holds the lock (checked at run time, cheaply:
//   the Mutex records its owner), and tells the analysis the lock is held from there on.
// - CondVar waits release the Mutex while they block and hold it again when they return. Their
//   predicates run with the Mutex held; since the analysis cannot follow a lock into a lambda,
//   a predicate that reads guarded members says so:
//     ready_.Wait(mu_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_; });
//   Waits may wake spuriously; the predicate forms loop until it holds (or time runs out).
// - Every member is safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"

namespace spinel::common {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.lock();
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
  }
  void Unlock() ABSL_UNLOCK_FUNCTION() {
    owner_.store(std::thread::id(), std::memory_order_relaxed);
    mu_.unlock();
  }
  // Takes the lock if it is free; returns whether it did. Never blocks.
  bool TryLock() ABSL_EXCLUSIVE_TRYLOCK_FUNCTION(true) {
    if (!mu_.try_lock()) return false;
    owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
    return true;
  }
  // Aborts unless the calling thread holds this Mutex.
  void AssertHeld() const ABSL_ASSERT_EXCLUSIVE_LOCK();

 private:
  friend class CondVar;

  std::mutex mu_;
  // The holder, or no thread. Only the holder writes it while holding mu_, so a thread reading
  // its own id here holds the lock; relaxed is enough for that self-check.
  std::atomic<std::thread::id> owner_{};
};

// Holds a Mutex for its scope. Unlock/Lock release and retake it inside the scope (for a slow
// call that must not run under the lock); the destructor releases it only if held.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {
    if (held_) mu_.Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() ABSL_UNLOCK_FUNCTION() {
    mu_.Unlock();
    held_ = false;
  }
  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() {
    mu_.Lock();
    held_ = true;
  }

 private:
  Mutex& mu_;
  bool held_ = true;
};

// A condition variable waited on with a held Mutex (std::condition_variable underneath).
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  // Blocks until notified (or a spurious wake-up).
  void Wait(Mutex& mu) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
  // The predicate forms below are exempt from the analysis inside (their callers are still
  // checked for holding `mu`): it cannot tie the lambda's own ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_)
  // to the `mu` parameter, and would report every call of `ready()`, which runs with `mu` held.

  // Blocks until `ready()` is true.
  template <typename Predicate>
  void Wait(Mutex& mu, Predicate ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    while (!ready()) Wait(mu);
  }
  // Blocks until `ready()` is true or `deadline` passes (measured on the deadline's clock);
  // returns `ready()` as last evaluated, with the lock held.
  template <typename Clock, typename Duration, typename Predicate>
  bool WaitUntil(Mutex& mu, std::chrono::time_point<Clock, Duration> deadline, Predicate ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) ABSL_NO_THREAD_SAFETY_ANALYSIS {
    while (!ready()) {
      if (WaitOnceUntil(mu, deadline) == std::cv_status::timeout) return ready();
    }
    return true;
  }
  // WaitUntil with a deadline `timeout` from now on the steady clock.
  template <typename Rep, typename Period, typename Predicate>
  bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> timeout, Predicate ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    return WaitUntil(mu, std::chrono::steady_clock::now() + timeout, std::move(ready));
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  // One wait, released and retaken around the block like Wait(mu).
  template <typename Clock, typename Duration>
  std::cv_status WaitOnceUntil(Mutex& mu, std::chrono::time_point<Clock, Duration> deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
    std::unique_lock<std::mutex> lock = Adopt(mu);
    const std::cv_status status = cv_.wait_until(lock, deadline);
    Readopt(mu, lock);
    return status;
  }
  // Hand the held std::mutex to a unique_lock for the wait, and take it back after: the lock
  // stays held across both calls except while the condition variable blocks.
  static std::unique_lock<std::mutex> Adopt(Mutex& mu);
  static void Readopt(Mutex& mu, std::unique_lock<std::mutex>& lock);

  std::condition_variable cv_;
};

}  // namespace spinel::common
