// SigningLimiter: keeps a reconnect storm from overwhelming the signer. At most
// `max_concurrent` batches sign at once (others queue, they are not refused), and each agent may
// sign at most `per_agent_per_second` SVIDs per second on average (token bucket with one
// second of burst); beyond that the agent is told ResourceExhausted and retries with backoff.
// Thread-safe.
#pragma once

#include <algorithm>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/mutex.h"

namespace spinel::server {

class SigningLimiter {
 public:
  // Values below 1 are taken as 1 (zero slots would make every signer wait forever).
  SigningLimiter(int max_concurrent, int per_agent_per_second, const common::Clock& clock)
      : max_concurrent_(std::max(1, max_concurrent)),
        rate_(std::max(1, per_agent_per_second)),
        clock_(clock) {}

  // Takes `count` signings from the agent's bucket; ResourceExhausted when it is empty.
  absl::Status Admit(const std::string& agent_id, int count);

  // Holds one of the concurrent signing slots for its lifetime (waits for one).
  class Slot {
   public:
    explicit Slot(SigningLimiter& limiter);
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    SigningLimiter& limiter_;
  };

 private:
  struct Bucket {
    double tokens = 0;
    common::TimePoint refilled;
  };
  const int max_concurrent_;
  const double rate_;
  const common::Clock& clock_;
  common::Mutex mutex_;
  common::CondVar slot_free_;
  int in_use_ ABSL_GUARDED_BY(mutex_) = 0;
  std::map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace spinel::server
