// SnapshotAuthorities: the X.509, JWT and WIT authorities of an IdentityCache snapshot, by
// trust domain (bundles are never pooled), optionally restricted to a set of trusted domains.
// The one place the agent looks up keys for validating credentials it did not issue: the
// Authorization API's subject and workload proofs (every bundle the agent holds: its zones,
// their peers, federated trust domains and the control trust domain), ValidateJWTSVID (only
// the caller's trusted domains) and delegation tokens.
//
// FindJwtAuthority / FindWitAuthority: NotFound naming why — the trust domain is not trusted by
// the caller, has no bundle, or its bundle has no jwt-svid (wit-svid) key with that kid.
// FindDelegationAuthority: zones sign delegation tokens with their JWT-SVID keys, so it is the
// jwt-svid key `kid` of the trust domain's bundle (same errors). X509AuthoritiesFor: nullopt
// for an untrusted domain or one without a bundle.
// Holds a reference to the snapshot, which must outlive it. Const methods are thread-safe.
#pragma once

#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "agent/identity_cache.h"
#include "common/delegation_token.h"
#include "common/jwt_svid.h"
#include "common/wit_svid.h"
#include "common/x509_svid_validator.h"

namespace spinel::agent {

class SnapshotAuthorities final : public common::X509AuthoritySource,
                                  public common::JwtAuthoritySource,
                                  public common::WitAuthoritySource,
                                  public common::DelegationAuthoritySource {
 public:
  // Every bundle of `snapshot`.
  explicit SnapshotAuthorities(const CacheSnapshot& snapshot) : snapshot_(snapshot) {}
  // Only the bundles of `trusted` trust domains.
  SnapshotAuthorities(const CacheSnapshot& snapshot, std::set<common::TrustDomain> trusted)
      : snapshot_(snapshot), trusted_(std::move(trusted)) {}

  std::optional<std::vector<common::Certificate>> X509AuthoritiesFor(
      const common::TrustDomain& td) const override;
  absl::StatusOr<common::PublicKey> FindJwtAuthority(const common::TrustDomain& td,
                                                     std::string_view kid) const override;
  absl::StatusOr<common::PublicKey> FindWitAuthority(const common::TrustDomain& td,
                                                     std::string_view kid) const override;
  absl::StatusOr<common::PublicKey> FindDelegationAuthority(const common::TrustDomain& td,
                                                            std::string_view kid) const override;

 private:
  // The bundle of `td`, or NotFound when it is untrusted or absent.
  absl::StatusOr<const common::Bundle*> BundleOf(const common::TrustDomain& td) const;

  const CacheSnapshot& snapshot_;
  const std::optional<std::set<common::TrustDomain>> trusted_;
};

}  // namespace spinel::agent
