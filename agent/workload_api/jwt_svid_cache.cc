#include "agent/workload_api/jwt_svid_cache.h"

#include <algorithm>

namespace spinel::agent {

JwtSvidCache::JwtSvidCache(JwtMinter& minter, const common::Clock& clock, size_t max_entries)
    : minter_(minter), clock_(clock), max_entries_(std::max<size_t>(max_entries, 1)) {}

bool JwtSvidCache::Fresh(const MintedJwtSvid& svid, common::TimePoint now) const {
  const common::TimePoint half_life = svid.issued_at + (svid.expires_at - svid.issued_at) / 2;
  return now < half_life && now < svid.expires_at;
}

absl::StatusOr<MintedJwtSvid> JwtSvidCache::Get(const CachedEntry& entry,
                                                const std::vector<std::string>& audience) {
  std::vector<std::string> sorted = audience;
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  Key key{entry.id, entry.spiffe_id.ToString(), entry.revision, sorted};
  {
    common::MutexLock lock(mutex_);
    auto it = slots_.find(key);
    if (it != slots_.end() && Fresh(it->second.svid, clock_.Now())) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return it->second.svid;
    }
  }
  absl::StatusOr<MintedJwtSvid> minted = minter_.Mint(entry, sorted);
  if (!minted.ok()) return minted.status();
  common::MutexLock lock(mutex_);
  ++mints_;
  InsertLocked(key, *minted, clock_.Now());
  return minted;
}

void JwtSvidCache::InsertLocked(const Key& key, MintedJwtSvid svid, common::TimePoint now) {
  auto it = slots_.find(key);
  if (it != slots_.end()) {
    it->second.svid = std::move(svid);
    lru_.splice(lru_.begin(), lru_, it->second.lru);
    return;
  }
  lru_.push_front(key);
  slots_.emplace(key, Slot{std::move(svid), lru_.begin()});
  if (slots_.size() > max_entries_) EvictLocked(now);
}

void JwtSvidCache::EvictLocked(common::TimePoint now) {
  for (auto it = slots_.begin(); it != slots_.end();) {
    if (Fresh(it->second.svid, now)) {
      ++it;
      continue;
    }
    lru_.erase(it->second.lru);
    it = slots_.erase(it);
  }
  while (slots_.size() > max_entries_) {
    slots_.erase(lru_.back());
    lru_.pop_back();
  }
}

size_t JwtSvidCache::size() const {
  common::MutexLock lock(mutex_);
  return slots_.size();
}

uint64_t JwtSvidCache::mints() const {
  common::MutexLock lock(mutex_);
  return mints_;
}

}  // namespace spinel::agent
