// TestJwtMinter: a JwtMinter (agent/jwt_minter.h) that mints real JWT-SVIDs locally with
// common::JwtSvidSigner, one signing key per trust domain, at a test clock's now. Counts mints
// and can be told to fail. Thread-safe.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/jwt_minter.h"
#include "common/clock.h"
#include "common/jwt_svid.h"
#include "common/keys.h"
#include "common/mutex.h"

namespace spinel::testing {

class TestJwtMinter final : public agent::JwtMinter {
 public:
  explicit TestJwtMinter(const common::Clock& clock, common::Duration ttl = std::chrono::minutes(5))
      : clock_(clock), ttl_(ttl) {}

  // Makes `key` (with `kid`) the signing key of `td`.
  void AddKey(const common::TrustDomain& td, const common::PrivateKey& key,
              const std::string& kid) {
    auto signer = common::JwtSvidSigner::Create(td, key, kid);
    REQUIRE(signer.ok());
    spinel::common::MutexLock lock(mutex_);
    signers_[td] = std::move(*signer);
  }

  absl::StatusOr<agent::MintedJwtSvid> Mint(const agent::CachedEntry& entry,
                                            const std::vector<std::string>& audience) override {
    ++mints_;
    if (fail_.load()) return absl::UnavailableError("server unreachable (test)");
    spinel::common::MutexLock lock(mutex_);
    auto it = signers_.find(entry.spiffe_id.trust_domain());
    if (it == signers_.end()) return absl::NotFoundError("no JWT key for that trust domain");
    common::JwtSvidClaims claims;
    claims.subject = entry.spiffe_id;
    claims.audience = audience;
    claims.issued_at = std::chrono::time_point_cast<std::chrono::seconds>(clock_.Now());
    claims.expires_at = claims.issued_at + ttl_;
    absl::StatusOr<std::string> token = it->second->Mint(claims);
    if (!token.ok()) return token.status();
    return agent::MintedJwtSvid{*token, claims.issued_at, claims.expires_at};
  }

  int mints() const { return mints_.load(); }
  void set_fail(bool fail) { fail_ = fail; }

 private:
  const common::Clock& clock_;
  const common::Duration ttl_;
  spinel::common::Mutex mutex_;
  std::map<common::TrustDomain, std::unique_ptr<common::JwtSvidSigner>> signers_
      ABSL_GUARDED_BY(mutex_);
  std::atomic<int> mints_{0};
  std::atomic<bool> fail_{false};
};

}  // namespace spinel::testing
