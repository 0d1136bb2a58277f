#include "tests/support/wait_for.h"

#include <thread>

namespace spinel::testing {

bool WaitFor(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ready()) return true;
    std::this_thread::sleep_for(interval);
  }
  return ready();
}

}  // namespace spinel::testing
