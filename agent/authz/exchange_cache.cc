#include "agent/authz/exchange_cache.h"

#include "common/sha256.h"

namespace spinel::agent {
namespace {

void AppendField(std::string& out, std::string_view field) {
  out.append(std::to_string(field.size()));
  out.push_back(':');
  out.append(field);
}

}  // namespace

absl::StatusOr<std::string> ExchangeCacheKey(const ExchangeCacheKeyParts& parts) {
  std::string text;
  for (std::string_view field :
       {parts.subject_token, parts.caller, parts.key_thumbprint, parts.audience}) {
    AppendField(text, field);
  }
  AppendField(text, std::to_string(parts.requested_ttl_seconds));
  return common::Sha256Hex(text);
}

ExchangeCache::ExchangeCache(size_t max_entries) : max_entries_(max_entries) {}

std::optional<CachedExchange> ExchangeCache::Find(const std::string& key, common::TimePoint now) {
  common::MutexLock lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  const CachedExchange& entry = it->second;
  const common::Duration lifetime = entry.expires_at - entry.received_at;
  if (now < entry.received_at || (entry.expires_at - now) * 2 < lifetime) {
    EraseLocked(key);
    return std::nullopt;
  }
  return entry;
}

void ExchangeCache::Insert(const std::string& key, CachedExchange value, common::TimePoint now) {
  if (max_entries_ == 0 || value.expires_at <= now || value.expires_at <= value.received_at) {
    return;
  }
  common::MutexLock lock(mu_);
  EraseLocked(key);
  EvictExpiredLocked(now);
  while (entries_.size() >= max_entries_ && !by_expiry_.empty()) {
    const std::string victim = by_expiry_.begin()->second;  // a copy: erasing frees it
    EraseLocked(victim);
  }
  by_expiry_.emplace(value.expires_at, key);
  entries_.emplace(key, std::move(value));
}

size_t ExchangeCache::size() const {
  common::MutexLock lock(mu_);
  return entries_.size();
}

void ExchangeCache::EraseLocked(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  auto [first, last] = by_expiry_.equal_range(it->second.expires_at);
  for (auto e = first; e != last; ++e) {
    if (e->second == key) {
      by_expiry_.erase(e);
      break;
    }
  }
  entries_.erase(it);
}

void ExchangeCache::EvictExpiredLocked(common::TimePoint now) {
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= now) {
    const std::string victim = by_expiry_.begin()->second;  // a copy: erasing frees it
    EraseLocked(victim);
  }
}

}  // namespace spinel::agent
