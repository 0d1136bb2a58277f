// ZoneState: the zones currently in force. Readers take a shared_ptr to an immutable ZoneSet;
// a reload swaps in a whole new set (an invalid change never replaces the old one).
// Thread-safe.
#pragma once

#include <memory>
#include <mutex>

#include "trust-zones/zone.h"

namespace spinel::server {

class ZoneState {
 public:
  explicit ZoneState(zones::ZoneSet zones)
      : zones_(std::make_shared<const zones::ZoneSet>(std::move(zones))) {}

  std::shared_ptr<const zones::ZoneSet> Get() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return zones_;
  }
  void Replace(zones::ZoneSet zones) {
    auto next = std::make_shared<const zones::ZoneSet>(std::move(zones));
    std::lock_guard<std::mutex> lock(mutex_);
    zones_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const zones::ZoneSet> zones_;
};

}  // namespace spinel::server
