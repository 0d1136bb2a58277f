// Clock: the injected source of "now". Everything that depends on time (CA rotation, SVID
// expiry, JWT validation, approvals, caches) takes a `const Clock&` so tests can use a fake
// clock and never sleep. Implementations must be safe to call from any thread.
#pragma once

#include <chrono>

namespace spinel::common {

using TimePoint = std::chrono::system_clock::time_point;
using Duration = std::chrono::system_clock::duration;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The wall clock.
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::system_clock::now(); }
  // A process-wide instance, for composition roots.
  static const SystemClock& Get() {
    static const SystemClock clock;
    return clock;
  }
};

// Seconds since the Unix epoch, truncated (the unit of X.509 and JWT times).
inline int64_t ToUnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
inline TimePoint FromUnixSeconds(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

}  // namespace spinel::common
