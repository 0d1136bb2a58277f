#include "agent/authz/subject_proof_cache.h"

#include "common/sha256.h"

namespace spinel::agent {
namespace {

void AppendLengthPrefixed(std::string& out, std::string_view data) {
  const uint64_t size = data.size();
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(size >> shift));
  out.append(data);
}

bool SameBundles(const std::map<common::TrustDomain, common::Bundle>& a,
                 const std::map<common::TrustDomain, common::Bundle>& b) {
  if (a.size() != b.size()) return false;
  for (auto x = a.begin(), y = b.begin(); x != a.end(); ++x, ++y) {
    if (x->first != y->first || !x->second.Equals(y->second)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> SubjectProofKeyJwt(std::string_view audience, std::string_view token) {
  std::string material = "jwt-svid";
  AppendLengthPrefixed(material, audience);
  AppendLengthPrefixed(material, token);
  return common::Sha256Hex(material);
}

absl::StatusOr<std::string> SubjectProofKeyX509(const spinel::v1::X509SvidChain& chain) {
  std::string material = "x509-svid";
  for (const std::string& der : chain.certificates()) AppendLengthPrefixed(material, der);
  return common::Sha256Hex(material);
}

SubjectProofCache::SubjectProofCache(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

void SubjectProofCache::SyncBundlesLocked(const CacheSnapshot& snapshot) {
  if (synced_generation_ == snapshot.generation) return;
  synced_generation_ = snapshot.generation;
  if (SameBundles(bundles_, snapshot.bundles)) return;
  if (!lru_.empty()) ++stats_.invalidations;
  lru_.clear();
  index_.clear();
  bundles_ = snapshot.bundles;
}

void SubjectProofCache::EraseLocked(Lru::iterator it) {
  index_.erase(it->key);
  lru_.erase(it);
}

std::optional<ProvedSubject> SubjectProofCache::Find(const std::string& key,
                                                     const CacheSnapshot& snapshot,
                                                     common::TimePoint now) {
  common::MutexLock lock(mutex_);
  SyncBundlesLocked(snapshot);
  auto found = index_.find(key);
  if (found == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  Lru::iterator it = found->second;
  if (now < it->proved_at || now >= it->valid_until) {
    EraseLocked(it);
    ++stats_.misses;
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it);
  ++stats_.hits;
  return it->subject;
}

void SubjectProofCache::Insert(const std::string& key, const CacheSnapshot& snapshot,
                               ProvedSubject subject, common::TimePoint proved_at,
                               common::TimePoint valid_until) {
  if (valid_until <= proved_at) return;
  common::MutexLock lock(mutex_);
  SyncBundlesLocked(snapshot);
  auto found = index_.find(key);
  if (found != index_.end()) EraseLocked(found->second);
  while (lru_.size() >= capacity_) EraseLocked(std::prev(lru_.end()));
  lru_.push_front(Entry{key, std::move(subject), proved_at, valid_until});
  index_.emplace(key, lru_.begin());
}

SubjectProofCache::Stats SubjectProofCache::stats() const {
  common::MutexLock lock(mutex_);
  Stats out = stats_;
  out.size = lru_.size();
  return out;
}

}  // namespace spinel::agent
