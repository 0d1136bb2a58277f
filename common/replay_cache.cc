#include "common/replay_cache.h"

#include "common/strings.h"

namespace spinel::common {

WptReplayCache::WptReplayCache(size_t max_entries) : max_entries_(max_entries) {}

void WptReplayCache::EvictExpiredLocked(TimePoint now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    retain_until_.erase(by_expiry_.begin()->second);
    by_expiry_.erase(by_expiry_.begin());
  }
}

absl::Status WptReplayCache::CheckAndRecord(std::string_view subject, std::string_view jti,
                                            TimePoint retain_until, TimePoint now) {
  if (jti.empty()) return absl::InvalidArgumentError("jti is empty");
  if (jti.size() > kMaxWptJtiBytes) {
    return absl::InvalidArgumentError(
        StrCat("jti of ", jti.size(), " bytes exceeds the limit of ", kMaxWptJtiBytes));
  }
  if (retain_until <= now) return absl::InvalidArgumentError("retention ends before now");
  Key key{std::string(subject), std::string(jti)};
  MutexLock lock(mu_);
  EvictExpiredLocked(now);
  if (retain_until_.count(key) > 0) {
    return absl::AlreadyExistsError("jti replayed: this proof was already used");
  }
  if (retain_until_.size() >= max_entries_) {
    return absl::ResourceExhaustedError(StrCat("replay cache full (", max_entries_,
                                               " live proofs); refusing rather than "
                                               "forgetting a live jti"));
  }
  by_expiry_.emplace(retain_until, key);
  retain_until_.emplace(std::move(key), retain_until);
  return absl::OkStatus();
}

size_t WptReplayCache::size() const {
  MutexLock lock(mu_);
  return retain_until_.size();
}

}  // namespace spinel::common
