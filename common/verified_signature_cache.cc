#include "common/verified_signature_cache.h"

#include "common/sha256.h"
#include "common/status_macros.h"

namespace spinel::common {
namespace {

absl::StatusOr<std::string> CacheKey(JwsAlgorithm alg, const PublicKey& key,
                                     std::string_view signing_input, std::string_view signature) {
  SPINEL_ASSIGN_OR_RETURN(std::string spki, key.ToSpkiDer());
  SPINEL_ASSIGN_OR_RETURN(Sha256 hash, Sha256::Start());
  // Length-prefixed parts, so no two different tuples hash the same input.
  for (std::string_view part :
       {JwsAlgorithmName(alg), std::string_view(spki), signing_input, signature}) {
    const std::string length = std::to_string(part.size()) + ":";
    SPINEL_RETURN_IF_ERROR(hash.Update(length));
    SPINEL_RETURN_IF_ERROR(hash.Update(part));
  }
  return hash.FinishHex();
}

}  // namespace

VerifiedSignatureCache::VerifiedSignatureCache(size_t capacity)
    : capacity_(capacity == 0 ? 1 : capacity) {}

absl::Status VerifiedSignatureCache::Verify(JwsAlgorithm alg, const PublicKey& key,
                                            std::string_view signing_input,
                                            std::string_view signature) {
  absl::StatusOr<std::string> cache_key = CacheKey(alg, key, signing_input, signature);
  if (!cache_key.ok()) return VerifyJwsSignature(alg, key, signing_input, signature);
  {
    MutexLock lock(mutex_);
    if (verified_.contains(*cache_key)) {
      ++hits_;
      return absl::OkStatus();
    }
    ++misses_;
  }
  SPINEL_RETURN_IF_ERROR(VerifyJwsSignature(alg, key, signing_input, signature));
  MutexLock lock(mutex_);
  if (verified_.insert(*cache_key).second) {
    order_.push_back(*std::move(cache_key));
    while (order_.size() > capacity_) {
      verified_.erase(order_.front());
      order_.pop_front();
    }
  }
  return absl::OkStatus();
}

VerifiedSignatureCache::Stats VerifiedSignatureCache::stats() const {
  MutexLock lock(mutex_);
  return {hits_, misses_, verified_.size()};
}

absl::Status VerifyJwsSignature(VerifiedSignatureCache* cache, JwsAlgorithm alg,
                                const PublicKey& key, std::string_view signing_input,
                                std::string_view signature) {
  if (cache == nullptr) return VerifyJwsSignature(alg, key, signing_input, signature);
  return cache->Verify(alg, key, signing_input, signature);
}

}  // namespace spinel::common
