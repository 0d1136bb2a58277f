#include "server/bundles/own_bundle.h"

#include <algorithm>

#include "common/strings.h"
#include "server/bundles/bundle_merger.h"

namespace spinel::server {
namespace {

constexpr std::chrono::seconds kMaxRefreshHint{300};

}  // namespace

std::chrono::seconds BundleRefreshHint(const AuthoritySnapshot& snapshot) {
  const X509Authority* active = snapshot.ActiveX509();
  if (active == nullptr) return kMaxRefreshHint;
  auto fifteenth =
      std::chrono::duration_cast<std::chrono::seconds>(active->NotAfter() - active->NotBefore()) /
      15;
  return std::clamp(fifteenth, std::chrono::seconds(1), kMaxRefreshHint);
}

std::shared_ptr<const common::Bundle> OwnBundles::Current(const common::TrustDomain& td) const {
  return OwnBundle(merger_, cas_, td);
}

absl::StatusOr<common::Bundle> OwnBundles::Published(const common::TrustDomain& td) const {
  std::shared_ptr<const AuthoritySnapshot> snapshot = cas_.Snapshot(td);
  if (snapshot == nullptr) {
    return absl::NotFoundError(common::StrCat("no authority for trust domain ", td.name()));
  }
  // The hint from this replica's CA.
  std::shared_ptr<const common::Bundle> own = Current(td);
  common::Bundle bundle = own ? *own : snapshot->ToBundle();
  bundle.refresh_hint_seconds = BundleRefreshHint(*snapshot).count();
  return bundle;
}

absl::StatusOr<common::PublicKey> OwnDelegationAuthorities::FindDelegationAuthority(
    const common::TrustDomain& trust_domain, std::string_view kid) const {
  std::shared_ptr<const common::Bundle> bundle = bundles_.Current(trust_domain);
  if (bundle == nullptr) {
    return absl::NotFoundError(
        common::StrCat("no zone of this server has trust domain ", trust_domain.name()));
  }
  const common::PublicKey* key = bundle->FindJwtAuthority(kid);
  if (key == nullptr) {
    return absl::NotFoundError(
        common::StrCat("no key ", kid, " in the bundle of ", trust_domain.name()));
  }
  return *key;
}

}  // namespace spinel::server
