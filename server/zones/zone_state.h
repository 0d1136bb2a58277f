// ZoneState: the zones currently in force, as one immutable generation: the validated ZoneSet
// and the zone file sources it was built from (ZoneGeneration). Readers take a shared_ptr to
// the generation, or to its set; a reload swaps in a whole new generation (set and sources
// together), so a reader never sees the set of one generation with the files of another, and an
// invalid change never replaces the old generation (server/zones/zone_reload.h does the checks).
// Thread-safe.
#pragma once

#include <memory>
#include <vector>

#include "common/mutex.h"
#include "trust-zones/zone.h"
#include "trust-zones/zone_loader.h"

namespace spinel::server {

struct ZoneGeneration {
  zones::ZoneSet set;
  // The zone files of `set` in file-name order; `file` is the base name ("inference.yaml"),
  // `text` the YAML exactly as read. zones::BuildZoneSet(sources) rebuilds an equal set (this
  // is what agents are sent, see AgentView::PolicyDocument). Empty when the set was built
  // without files (tests).
  std::vector<zones::ZoneSource> sources;
};

class ZoneState {
 public:
  explicit ZoneState(ZoneGeneration generation)
      : generation_(std::make_shared<const ZoneGeneration>(std::move(generation))) {}
  // A generation without sources.
  explicit ZoneState(zones::ZoneSet zones) : ZoneState(ZoneGeneration{std::move(zones), {}}) {}

  // The generation in force.
  std::shared_ptr<const ZoneGeneration> Generation() const {
    common::MutexLock lock(mutex_);
    return generation_;
  }
  // The set of the generation in force (shares ownership of the whole generation).
  std::shared_ptr<const zones::ZoneSet> Get() const {
    std::shared_ptr<const ZoneGeneration> generation = Generation();
    return std::shared_ptr<const zones::ZoneSet>(generation, &generation->set);
  }
  void Replace(ZoneGeneration generation) {
    auto next = std::make_shared<const ZoneGeneration>(std::move(generation));
    common::MutexLock lock(mutex_);
    generation_ = std::move(next);
  }
  // A generation without sources (tests that build sets in code).
  void Replace(zones::ZoneSet zones) { Replace(ZoneGeneration{std::move(zones), {}}); }

 private:
  mutable common::Mutex mutex_;
  std::shared_ptr<const ZoneGeneration> generation_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace spinel::server
