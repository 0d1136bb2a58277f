#include "agent/wit_rotator.h"

#include <set>

#include "agent/node_session.h"
#include "common/jwk.h"
#include "common/log.h"
#include "common/private_jwk.h"
#include "common/status_macros.h"
#include "common/wit_svid.h"

namespace spinel::agent {
namespace {

constexpr auto kIdlePass = std::chrono::seconds(30);
constexpr common::JwsAlgorithm kWorkloadKeyAlgorithm = common::JwsAlgorithm::kEs256;

// A fresh workload key pair: the private key as a private JWK and the public cnf JWK text.
absl::StatusOr<std::pair<common::SecretData, std::string>> NewWorkloadKey() {
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey pub, key.Public());
  SPINEL_ASSIGN_OR_RETURN(nlohmann::json cnf,
                          common::ConfirmationJwk({std::move(pub), kWorkloadKeyAlgorithm}));
  SPINEL_ASSIGN_OR_RETURN(common::SecretData jwk,
                          common::PrivateKeyToJwk(key, kWorkloadKeyAlgorithm));
  return std::make_pair(std::move(jwk), cnf.dump());
}

}  // namespace

WitRotator::~WitRotator() { Stop(); }

std::vector<CachedEntry> WitRotator::DueEntries(common::TimePoint now,
                                                common::TimePoint* next_due) const {
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  std::vector<CachedEntry> due;
  *next_due = now + kIdlePass;
  for (const CachedEntry& entry : snapshot->entries) {
    if (!entry.wit_wanted) continue;
    common::TimePoint when = now;
    if (entry.wit && entry.wit->id == entry.spiffe_id) when = entry.wit->renew_at;
    auto retry = retry_after_.find(entry.id);
    if (retry != retry_after_.end()) when = std::max(when, retry->second);
    if (when <= now) {
      due.push_back(entry);
    } else {
      *next_due = std::min(*next_due, when);
    }
  }
  return due;
}

void WitRotator::MintBatch(const std::vector<CachedEntry>& batch, PassResult& result) {
  std::vector<WitKeyRequest> requests;
  std::map<std::string, std::pair<common::SecretData, common::SpiffeId>> keys;
  for (const CachedEntry& entry : batch) {
    absl::StatusOr<std::pair<common::SecretData, std::string>> key = NewWorkloadKey();
    if (!key.ok()) continue;
    requests.push_back({entry.id, std::move(key->second)});
    keys.emplace(entry.id, std::make_pair(std::move(key->first), entry.spiffe_id));
  }
  const common::TimePoint now = clock_.Now();
  absl::StatusOr<std::vector<MintedWit>> minted = minter_.MintWitSvids(requests);
  if (!minted.ok()) {
    LOG_WARN("WIT-SVID minting failed; will retry",
             {{"error", std::string(minted.status().message())},
              {"batch", std::to_string(batch.size())}});
    for (const CachedEntry& entry : batch) retry_after_[entry.id] = now + kWitRetryDelay;
    result.failed += static_cast<int>(batch.size());
    return;
  }
  std::vector<WitSvidRecord> records;
  for (MintedWit& wit : *minted) {
    auto key = keys.find(wit.entry_id);
    if (key == keys.end()) continue;
    if (!wit.status.ok() || wit.expires_at <= now) {
      LOG_WARN("WIT-SVID refused",
               {{"entry_id", wit.entry_id}, {"error", std::string(wit.status.message())}});
      retry_after_[wit.entry_id] = now + kWitRetryDelay;
      ++result.failed;
      continue;
    }
    records.push_back(
        WitSvidRecord{wit.entry_id, key->second.second, std::move(wit.token),
                      std::make_shared<const common::SecretData>(std::move(key->second.first)), now,
                      wit.expires_at, RenewalTime(now, wit.expires_at)});
    retry_after_.erase(wit.entry_id);
    ++result.renewed;
  }
  cache_.StoreWitSvids(std::move(records));
}

WitRotator::PassResult WitRotator::RunOnce() {
  PassResult result;
  const common::TimePoint now = clock_.Now();
  cache_.DropExpired(now);
  {
    std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
    std::set<std::string> ids;
    for (const CachedEntry& entry : snapshot->entries) ids.insert(entry.id);
    std::erase_if(retry_after_, [&](const auto& kv) { return ids.count(kv.first) == 0; });
  }
  std::vector<CachedEntry> due = DueEntries(now, &result.next_due);
  for (size_t start = 0; start < due.size(); start += static_cast<size_t>(batch_size_)) {
    const size_t end = std::min(due.size(), start + static_cast<size_t>(batch_size_));
    MintBatch(std::vector<CachedEntry>(due.begin() + static_cast<long>(start),
                                       due.begin() + static_cast<long>(end)),
              result);
  }
  // Recomputed over what was just minted (a short-lived WIT-SVID may be due soon).
  DueEntries(clock_.Now(), &result.next_due);
  return result;
}

void WitRotator::Start() {
  watch_id_ = cache_.Watch([this](uint64_t) {
    {
      common::MutexLock lock(mutex_);
      dirty_ = true;
    }
    wake_.NotifyOne();
  });
  thread_ = std::thread([this] { Loop(); });
}

void WitRotator::Loop() {
  while (true) {
    {
      common::MutexLock lock(mutex_);
      dirty_ = false;  // changes from here on wake the wait below
    }
    PassResult result = RunOnce();
    common::MutexLock lock(mutex_);
    wake_.WaitUntil(mutex_, result.next_due,
                    [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return dirty_ || stopping_; });
    if (stopping_) return;
  }
}

void WitRotator::Stop() {
  if (watch_id_ != 0) cache_.Unwatch(watch_id_);
  watch_id_ = 0;
  {
    common::MutexLock lock(mutex_);
    stopping_ = true;
  }
  wake_.NotifyAll();
  if (thread_.joinable()) thread_.join();
}

}  // namespace spinel::agent
