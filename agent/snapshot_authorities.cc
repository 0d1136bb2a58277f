#include "agent/snapshot_authorities.h"

#include "common/strings.h"

namespace spinel::agent {

using common::StrCat;

absl::StatusOr<const common::Bundle*> SnapshotAuthorities::BundleOf(
    const common::TrustDomain& td) const {
  if (trusted_.has_value() && trusted_->count(td) == 0) {
    return absl::NotFoundError(
        StrCat("trust domain ", td.name(),
               " is not trusted by the caller (not its zone, a peer or a federated trust domain)"));
  }
  auto bundle = snapshot_.bundles.find(td);
  if (bundle == snapshot_.bundles.end()) {
    return absl::NotFoundError(StrCat("no bundle for trust domain ", td.name()));
  }
  return &bundle->second;
}

std::optional<std::vector<common::Certificate>> SnapshotAuthorities::X509AuthoritiesFor(
    const common::TrustDomain& td) const {
  absl::StatusOr<const common::Bundle*> bundle = BundleOf(td);
  if (!bundle.ok()) return std::nullopt;
  return (*bundle)->x509_authorities;
}

absl::StatusOr<common::PublicKey> SnapshotAuthorities::FindJwtAuthority(
    const common::TrustDomain& td, std::string_view kid) const {
  absl::StatusOr<const common::Bundle*> bundle = BundleOf(td);
  if (!bundle.ok()) return bundle.status();
  const common::PublicKey* key = (*bundle)->FindJwtAuthority(kid);
  if (key == nullptr) {
    return absl::NotFoundError(
        StrCat("trust domain ", td.name(), " has no jwt-svid key with kid ", common::Quote(kid)));
  }
  return *key;
}

absl::StatusOr<common::PublicKey> SnapshotAuthorities::FindWitAuthority(
    const common::TrustDomain& td, std::string_view kid) const {
  absl::StatusOr<const common::Bundle*> bundle = BundleOf(td);
  if (!bundle.ok()) return bundle.status();
  const common::PublicKey* key = (*bundle)->FindWitAuthority(kid);
  if (key == nullptr) {
    return absl::NotFoundError(
        StrCat("trust domain ", td.name(), " has no wit-svid key with kid ", common::Quote(kid)));
  }
  return *key;
}

absl::StatusOr<common::PublicKey> SnapshotAuthorities::FindDelegationAuthority(
    const common::TrustDomain& td, std::string_view kid) const {
  return FindJwtAuthority(td, kid);
}

}  // namespace spinel::agent
