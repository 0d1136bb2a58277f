// RecursiveMutex and RecursiveMutexLock: a lock its holder may take again, annotated for clang's
// thread-safety analysis like common/mutex.h's Mutex (members it guards are checked the same
// way).
//
// Contract:
// - Over std::recursive_mutex: the thread holding it may lock it again, and it is released
//   when every lock taken is released. Not copyable or movable; it has no condition variable.
// - For the one case where a call made under the lock can come back into the locking object
//   on the same thread: a gRPC reactor, whose callbacks (OnWriteDone) may run inline from the
//   call that starts the operation (StartWrite). Everywhere else use Mutex, which catches a
//   second lock as a deadlock instead of hiding it.
// - Every member is safe to call from any thread.
#pragma once

#include <mutex>

#include "absl/base/thread_annotations.h"

namespace spinel::common {

class ABSL_LOCKABLE RecursiveMutex {
 public:
  RecursiveMutex() = default;
  RecursiveMutex(const RecursiveMutex&) = delete;
  RecursiveMutex& operator=(const RecursiveMutex&) = delete;

  void Lock() ABSL_EXCLUSIVE_LOCK_FUNCTION() { mu_.lock(); }
  void Unlock() ABSL_UNLOCK_FUNCTION() { mu_.unlock(); }

 private:
  std::recursive_mutex mu_;
};

// Holds a RecursiveMutex for its scope.
class ABSL_SCOPED_LOCKABLE RecursiveMutexLock {
 public:
  explicit RecursiveMutexLock(RecursiveMutex& mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    mu_.Lock();
  }
  ~RecursiveMutexLock() ABSL_UNLOCK_FUNCTION() { mu_.Unlock(); }
  RecursiveMutexLock(const RecursiveMutexLock&) = delete;
  RecursiveMutexLock& operator=(const RecursiveMutexLock&) = delete;

 private:
  RecursiveMutex& mu_;
};

}  // namespace spinel::common
