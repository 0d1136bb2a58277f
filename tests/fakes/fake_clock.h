// FakeClock: a Clock that only moves when a test tells it to. Thread-safe.
#pragma once

#include <atomic>

#include "common/clock.h"

namespace spinel::testing {

class FakeClock final : public common::Clock {
 public:
  explicit FakeClock(common::TimePoint start = common::FromUnixSeconds(1'800'000'000))
      : now_(start.time_since_epoch().count()) {}
  common::TimePoint Now() const override {
    return common::TimePoint(common::Duration(now_.load()));
  }
  void Advance(common::Duration d) { now_ += d.count(); }
  void Set(common::TimePoint t) { now_ = t.time_since_epoch().count(); }

 private:
  std::atomic<common::Duration::rep> now_;
};

}  // namespace spinel::testing
