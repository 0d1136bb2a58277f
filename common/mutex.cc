#include "common/mutex.h"

#include <cstdio>
#include <cstdlib>

namespace spinel::common {

void Mutex::AssertHeld() const {
  if (owner_.load(std::memory_order_relaxed) != std::this_thread::get_id()) {
    std::fputs("spinel: Mutex::AssertHeld failed: the calling thread does not hold the lock\n",
               stderr);
    std::abort();
  }
}

void CondVar::Wait(Mutex& mu) {
  std::unique_lock<std::mutex> lock = Adopt(mu);
  cv_.wait(lock);
  Readopt(mu, lock);
}

std::unique_lock<std::mutex> CondVar::Adopt(Mutex& mu) {
  mu.AssertHeld();
  mu.owner_.store(std::thread::id(), std::memory_order_relaxed);
  return std::unique_lock<std::mutex>(mu.mu_, std::adopt_lock);
}

void CondVar::Readopt(Mutex& mu, std::unique_lock<std::mutex>& lock) {
  lock.release();  // the Mutex (its caller) owns the lock again
  mu.owner_.store(std::this_thread::get_id(), std::memory_order_relaxed);
}

}  // namespace spinel::common
