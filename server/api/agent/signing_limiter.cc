#include "server/api/agent/signing_limiter.h"

#include <algorithm>

#include "common/strings.h"

namespace spinel::server {

absl::Status SigningLimiter::Admit(const std::string& agent_id, int count) {
  common::MutexLock lock(mutex_);
  const common::TimePoint now = clock_.Now();
  auto [it, inserted] = buckets_.try_emplace(agent_id, Bucket{rate_, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    const double elapsed = std::chrono::duration<double>(now - bucket.refilled).count();
    bucket.tokens = std::min(rate_, bucket.tokens + std::max(0.0, elapsed) * rate_);
    bucket.refilled = now;
  }
  // A batch larger than the burst is admitted when the bucket is full, then drains it.
  if (bucket.tokens < std::min<double>(count, rate_)) {
    return absl::ResourceExhaustedError(
        common::StrCat("agent ", agent_id, " exceeds its signing rate; retry later"));
  }
  bucket.tokens -= count;
  return absl::OkStatus();
}

SigningLimiter::Slot::Slot(SigningLimiter& limiter) : limiter_(limiter) {
  common::MutexLock lock(limiter_.mutex_);
  limiter_.slot_free_.Wait(limiter_.mutex_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(limiter_.mutex_) {
    return limiter_.in_use_ < limiter_.max_concurrent_;
  });
  ++limiter_.in_use_;
}

SigningLimiter::Slot::~Slot() {
  {
    common::MutexLock lock(limiter_.mutex_);
    --limiter_.in_use_;
  }
  limiter_.slot_free_.NotifyOne();
}

}  // namespace spinel::server
