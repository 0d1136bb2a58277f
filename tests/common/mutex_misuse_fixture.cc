// Not a test binary: scripts/check_thread_safety.sh compiles this file with the tree's
// thread-safety flags and clang's -verify, which fails unless every misuse below is reported
// exactly where its comment expects it (the line after; nothing else may be reported). It
// proves the analysis is on and that common/mutex.h's annotations mean what its header says.
#include "common/mutex.h"

namespace {

using spinel::common::CondVar;
using spinel::common::Mutex;
using spinel::common::MutexLock;

class Counter {
 public:
  int ReadUnlocked() const {
    // expected-error@+1 {{reading variable 'count_' requires holding mutex 'mu_'}}
    return count_;
  }
  void WriteUnlocked() {
    // expected-error@+1 {{writing variable 'count_' requires holding mutex 'mu_' exclusively}}
    count_ = 1;
  }
  void CallHelperUnlocked() {
    // expected-error@+1 {{calling function 'BumpLocked' requires holding mutex 'mu_'}}
    BumpLocked();
  }
  void UseAfterUnlock() {
    MutexLock lock(mu_);
    lock.Unlock();
    // expected-error@+1 {{writing variable 'count_' requires holding mutex 'mu_' exclusively}}
    count_ = 2;
  }
  void WaitWithUnannotatedPredicate() {
    MutexLock lock(mu_);
    changed_.Wait(mu_, [this] {
      // expected-error@+1 {{reading variable 'count_' requires holding mutex 'mu_'}}
      return count_ > 0;
    });
  }
  void WaitWithoutTheLock() {
    // expected-error@+1 {{calling function 'Wait' requires holding mutex 'mu_' exclusively}}
    changed_.Wait(mu_);
  }

  // The right way round: no diagnostic.
  int Correct() {
    MutexLock lock(mu_);
    changed_.Wait(mu_, [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return count_ > 0; });
    lock.Unlock();
    lock.Lock();
    BumpLocked();
    return count_;
  }

 private:
  void BumpLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { ++count_; }

  mutable Mutex mu_;
  CondVar changed_;
  int count_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace
