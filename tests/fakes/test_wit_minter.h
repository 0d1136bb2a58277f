// TestWitMinter: a WitMinter (agent/wit_minter.h) that mints real WIT-SVIDs locally with
// common::WitSvidSigner, one WIT key per trust domain, at a test clock's now, for the entries
// of an IdentityCache (entry id -> SPIFFE ID, as the server's registry would). The public JWK
// is parsed as the server parses it (common::ParseConfirmationJwk). Counts mints; can be told
// to fail the whole call or to refuse one entry. Thread-safe.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/identity_cache.h"
#include "agent/wit_minter.h"
#include "common/clock.h"
#include "common/keys.h"
#include "common/mutex.h"
#include "common/wit_svid.h"

namespace spinel::testing {

class TestWitMinter final : public agent::WitMinter {
 public:
  TestWitMinter(const common::Clock& clock, const agent::IdentityCache& cache,
                common::Duration ttl = std::chrono::hours(1))
      : clock_(clock), cache_(cache), ttl_(ttl) {}

  void AddKey(const common::TrustDomain& td, const common::PrivateKey& key,
              const std::string& kid) {
    auto signer = common::WitSvidSigner::Create(td, key, kid);
    REQUIRE(signer.ok());
    spinel::common::MutexLock lock(mutex_);
    signers_[td] = std::move(*signer);
  }

  absl::StatusOr<std::vector<agent::MintedWit>> MintWitSvids(
      const std::vector<agent::WitKeyRequest>& keys) override {
    if (fail_.load()) return absl::UnavailableError("server unreachable (test)");
    std::shared_ptr<const agent::CacheSnapshot> snapshot = cache_.Snapshot();
    std::vector<agent::MintedWit> out;
    for (const agent::WitKeyRequest& request : keys) {
      ++mints_;
      out.push_back(MintOne(*snapshot, request));
    }
    return out;
  }

  int mints() const { return mints_.load(); }
  void set_fail(bool fail) { fail_ = fail; }
  void Refuse(const std::string& entry_id) {
    spinel::common::MutexLock lock(mutex_);
    refused_.insert(entry_id);
  }

 private:
  agent::MintedWit MintOne(const agent::CacheSnapshot& snapshot,
                           const agent::WitKeyRequest& request) {
    agent::MintedWit result{request.entry_id, absl::OkStatus(), "", {}};
    const agent::CachedEntry* entry = nullptr;
    for (const agent::CachedEntry& e : snapshot.entries) {
      if (e.id == request.entry_id) entry = &e;
    }
    nlohmann::json jwk = nlohmann::json::parse(request.public_jwk, nullptr, false);
    absl::StatusOr<common::ConfirmationKey> key = common::ParseConfirmationJwk(jwk);
    spinel::common::MutexLock lock(mutex_);
    if (entry == nullptr || refused_.count(request.entry_id) > 0) {
      result.status = absl::PermissionDeniedError("entry not authorized (test)");
      return result;
    }
    if (!key.ok()) {
      result.status = key.status();
      return result;
    }
    auto signer = signers_.find(entry->spiffe_id.trust_domain());
    if (signer == signers_.end()) {
      result.status = absl::NotFoundError("no WIT key for that trust domain");
      return result;
    }
    const auto now = std::chrono::time_point_cast<std::chrono::seconds>(clock_.Now());
    absl::StatusOr<std::string> token =
        signer->second->Mint({entry->spiffe_id, now, now + ttl_}, *key);
    if (!token.ok()) {
      result.status = token.status();
      return result;
    }
    result.token = *token;
    result.expires_at = now + ttl_;
    return result;
  }

  const common::Clock& clock_;
  const agent::IdentityCache& cache_;
  const common::Duration ttl_;
  spinel::common::Mutex mutex_;
  std::map<common::TrustDomain, std::unique_ptr<common::WitSvidSigner>> signers_
      ABSL_GUARDED_BY(mutex_);
  std::set<std::string> refused_ ABSL_GUARDED_BY(mutex_);
  std::atomic<int> mints_{0};
  std::atomic<bool> fail_{false};
};

}  // namespace spinel::testing
