// Not a test binary: scripts/check_thread_safety.sh compiles this file with the tree's
// thread-safety flags and clang's -verify, which fails unless every misuse below is reported
// exactly where its comment expects it (and nothing else is). It proves the analysis
// is on and that common/mutex.h's annotations mean what its header says.
#include "common/mutex.h"

namespace {

using spinel::common::CondVar;
using spinel::common::Mutex;
using spinel::common::MutexLock;

class Counter {
 public:
  int ReadUnlocked() const {
    return count_;  // expected-error {{reading variable 'count_' requires holding mutex 'mu_'}}
  }
  void WriteUnlocked() {
    count_ = 1;  // expected-error {{writing variable 'count_' requires holding mutex 'mu_' exclusively}}
  }
  void CallHelperUnlocked() {
    BumpLocked();  // expected-error {{calling function 'BumpLocked' requires holding mutex 'mu_' exclusively}}
  }
  void UseAfterUnlock() {
    MutexLock lock(mu_);
    lock.Unlock();
    count_ = 2;  // expected-error {{writing variable 'count_' requires holding mutex 'mu_' exclusively}}
  }
  void WaitWithUnannotatedPredicate() {
    MutexLock lock(mu_);
    changed_.Wait(mu_, [this] {
      return count_ > 0;  // expected-error {{reading variable 'count_' requires holding mutex 'mu_'}}
    });
  }
  void WaitWithoutTheLock() {
    changed_.Wait(mu_);  // expected-error {{calling function 'Wait' requires holding mutex 'mu_' exclusively}}
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
