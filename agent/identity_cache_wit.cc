// IdentityCache's WIT-SVID state (contract in identity_cache.h).
#include <algorithm>

#include "agent/identity_cache.h"

namespace spinel::agent {

CachedEntry* IdentityCache::FindEntry(CacheSnapshot& snapshot, const std::string& id) {
  auto entry =
      std::lower_bound(snapshot.entries.begin(), snapshot.entries.end(), id,
                       [](const CachedEntry& e, const std::string& x) { return e.id < x; });
  if (entry == snapshot.entries.end() || entry->id != id) return nullptr;
  return &*entry;
}

void IdentityCache::RequestWitSvids(const std::vector<std::string>& entry_ids) {
  common::MutexLock lock(mutex_);
  std::shared_ptr<CacheSnapshot> next;
  for (const std::string& id : entry_ids) {
    if (next == nullptr) {
      auto current = std::find_if(snapshot_->entries.begin(), snapshot_->entries.end(),
                                  [&](const CachedEntry& e) { return e.id == id; });
      if (current == snapshot_->entries.end() || current->wit_wanted) continue;
      next = std::make_shared<CacheSnapshot>(*snapshot_);
    }
    if (CachedEntry* entry = FindEntry(*next, id)) entry->wit_wanted = true;
  }
  if (next == nullptr) return;
  const uint64_t generation = PublishLocked(std::move(next));
  lock.Unlock();
  Notify(generation);
}

void IdentityCache::StoreWitSvids(std::vector<WitSvidRecord> wits) {
  if (wits.empty()) return;
  common::MutexLock lock(mutex_);
  auto next = std::make_shared<CacheSnapshot>(*snapshot_);
  bool stored = false;
  for (WitSvidRecord& wit : wits) {
    CachedEntry* entry = FindEntry(*next, wit.entry_id);
    // The entry went away or changed identity while the WIT-SVID was being minted.
    if (entry == nullptr || entry->spiffe_id != wit.id) continue;
    entry->wit = std::make_shared<const WitSvidRecord>(std::move(wit));
    stored = true;
  }
  if (!stored) return;
  const uint64_t generation = PublishLocked(std::move(next));
  lock.Unlock();
  Notify(generation);
}

}  // namespace spinel::agent
