#include "agent/svid_rotator.h"

#include <set>

#include "agent/node_session.h"
#include "common/csr.h"
#include "common/log.h"

namespace spinel::agent {
namespace {

constexpr auto kRetryDelay = std::chrono::seconds(5);
constexpr auto kIdlePass = std::chrono::seconds(30);

// How far ahead of its renewal time an SVID is renewed when a pass signs anyway.
common::Duration CoalesceWindow(const X509SvidRecord& svid) {
  return (svid.expires_at - svid.issued_at) / kRenewalCoalesceDivisor;
}

}  // namespace

SvidRotator::~SvidRotator() { Stop(); }

std::vector<CachedEntry> SvidRotator::DueEntries(common::TimePoint now,
                                                 common::TimePoint* next_due) const {
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  std::vector<CachedEntry> due;
  std::vector<std::pair<const CachedEntry*, common::TimePoint>> later;
  for (const CachedEntry& entry : snapshot->entries) {
    common::TimePoint when = entry.svid ? entry.svid->renew_at : now;
    auto signed_for = signed_revision_.find(entry.id);
    if (signed_for != signed_revision_.end() && signed_for->second != entry.revision) {
      when = now;  // the entry changed (TTL, DNS names, ...) since its SVID was signed
    }
    auto retry = retry_after_.find(entry.id);
    if (retry != retry_after_.end()) when = std::max(when, retry->second);
    if (when <= now) {
      due.push_back(entry);
    } else {
      later.emplace_back(&entry, when);
    }
  }
  *next_due = now + kIdlePass;
  for (const auto& [entry, when] : later) {
    // A pass that signs anyway takes renewals coming due soon along (one push per pass).
    const bool coalesce = !due.empty() && entry->svid != nullptr &&
                          retry_after_.count(entry->id) == 0 &&
                          when <= now + CoalesceWindow(*entry->svid);
    if (coalesce) {
      due.push_back(*entry);
    } else {
      *next_due = std::min(*next_due, when);
    }
  }
  return due;
}

void SvidRotator::SignBatch(const std::vector<CachedEntry>& batch, PassResult& result) {
  std::vector<std::pair<std::string, std::string>> csrs;
  std::map<std::string, common::PrivateKey> keys;
  std::map<std::string, int64_t> revisions;
  for (const CachedEntry& entry : batch) {
    revisions[entry.id] = entry.revision;
    absl::StatusOr<common::PrivateKey> key = common::PrivateKey::Generate();
    absl::StatusOr<std::string> csr =
        key.ok() ? common::CreateCsrDer(*key, entry.spiffe_id) : key.status();
    if (!csr.ok()) continue;
    csrs.emplace_back(entry.id, *csr);
    keys.emplace(entry.id, std::move(*key));
  }
  const common::TimePoint now = clock_.Now();
  absl::StatusOr<std::vector<SignedSvid>> signed_svids = signer_.SignX509Svids(csrs);
  if (!signed_svids.ok()) {
    LOG_WARN("SVID signing failed; will retry",
             {{"error", std::string(signed_svids.status().message())},
              {"batch", std::to_string(batch.size())}});
    for (const CachedEntry& entry : batch) retry_after_[entry.id] = now + kRetryDelay;
    result.failed += static_cast<int>(batch.size());
    return;
  }
  std::vector<X509SvidRecord> records;
  for (SignedSvid& svid : *signed_svids) {
    auto key = keys.find(svid.entry_id);
    if (!svid.status.ok() || svid.chain.empty() || key == keys.end()) {
      LOG_WARN("SVID refused",
               {{"entry_id", svid.entry_id}, {"error", std::string(svid.status.message())}});
      retry_after_[svid.entry_id] = now + kRetryDelay;
      ++result.failed;
      continue;
    }
    absl::StatusOr<common::SecretData> der = key->second.ToPkcs8Der();
    absl::StatusOr<common::SpiffeId> id =
        common::SpiffeId::Parse(svid.chain.front().UriSans().at(0));
    if (!der.ok() || !id.ok()) continue;
    const common::Certificate& leaf = svid.chain.front();
    records.push_back(X509SvidRecord{
        svid.entry_id, *id, svid.chain, std::make_shared<const common::SecretData>(std::move(*der)),
        now, leaf.NotBefore(), leaf.NotAfter(),
        RenewalTime(std::max(leaf.NotBefore(), now), leaf.NotAfter())});
    retry_after_.erase(svid.entry_id);
    signed_revision_[svid.entry_id] = revisions[svid.entry_id];
    ++result.renewed;
  }
  cache_.StoreX509Svids(std::move(records));
}

void SvidRotator::ForgetRemovedEntries() {
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  std::set<std::string> ids;
  for (const CachedEntry& entry : snapshot->entries) ids.insert(entry.id);
  std::erase_if(retry_after_, [&](const auto& kv) { return ids.count(kv.first) == 0; });
  std::erase_if(signed_revision_, [&](const auto& kv) { return ids.count(kv.first) == 0; });
}

SvidRotator::PassResult SvidRotator::RunOnce() {
  PassResult result;
  const common::TimePoint now = clock_.Now();
  cache_.DropExpired(now);
  ForgetRemovedEntries();
  std::vector<CachedEntry> due = DueEntries(now, &result.next_due);
  for (size_t start = 0; start < due.size(); start += static_cast<size_t>(batch_size_)) {
    size_t end = std::min(due.size(), start + static_cast<size_t>(batch_size_));
    SignBatch(std::vector<CachedEntry>(due.begin() + static_cast<long>(start),
                                       due.begin() + static_cast<long>(end)),
              result);
  }
  // Recomputed over what was just signed: a short-lived new SVID may be due before the next
  // idle pass. Entries still due (no SVID could be made) are retried after a delay.
  if (!DueEntries(clock_.Now(), &result.next_due).empty()) result.next_due = now + kRetryDelay;
  return result;
}

void SvidRotator::Start() {
  watch_id_ = cache_.Watch([this](uint64_t) {
    {
      common::MutexLock lock(mutex_);
      dirty_ = true;
    }
    wake_.NotifyOne();
  });
  thread_ = std::thread([this] { Loop(); });
}

void SvidRotator::Loop() {
  while (true) {
    {
      common::MutexLock lock(mutex_);
      dirty_ = false;  // changes from here on wake the wait below
    }
    PassResult result = RunOnce();
    common::MutexLock lock(mutex_);
    // Wall-clock wait: SVID times are wall-clock times.
    wake_.WaitUntil(mutex_, result.next_due,
                    [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return dirty_ || stopping_; });
    if (stopping_) return;
  }
}

void SvidRotator::Stop() {
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
