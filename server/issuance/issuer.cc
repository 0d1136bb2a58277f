#include "server/issuance/issuer.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {

using common::StrCat;

absl::StatusOr<std::shared_ptr<const AuthoritySnapshot>> Issuer::SnapshotFor(
    const common::SpiffeId& id) const {
  std::shared_ptr<const AuthoritySnapshot> snapshot = cas_.Snapshot(id.trust_domain());
  if (snapshot == nullptr) {
    return absl::NotFoundError(
        StrCat("this server does not sign for trust domain ", id.trust_domain().name()));
  }
  return snapshot;
}

absl::StatusOr<common::Duration> Issuer::EffectiveTtl(const common::SpiffeId& id, SvidKind kind,
                                                      common::Duration requested) const {
  if (requested < common::Duration::zero()) {
    return absl::InvalidArgumentError("TTL must not be negative");
  }
  if (id.MemberOf(control_)) {
    if (requested == common::Duration::zero()) {
      return absl::InvalidArgumentError("control-plane SVIDs need an explicit TTL");
    }
    return requested;
  }
  std::shared_ptr<const zones::ZoneSet> zones = zones_.Get();
  const zones::Zone* zone = zones->ZoneOf(id);
  if (zone == nullptr) {
    return absl::NotFoundError(StrCat("no zone has trust domain ", id.trust_domain().name()));
  }
  const zones::TtlLimit& limit = kind == SvidKind::kJwt   ? zone->jwt_svid_ttl
                                 : kind == SvidKind::kWit ? zone->wit_svid_ttl
                                                          : zone->x509_svid_ttl;
  common::Duration ttl =
      requested == common::Duration::zero() ? common::Duration(limit.default_ttl) : requested;
  return std::min(ttl, common::Duration(limit.max_ttl));
}

template <typename KeySource>
absl::StatusOr<IssuedX509Svid> Issuer::Sign(const common::SpiffeId& id, const KeySource& key,
                                            common::Duration ttl,
                                            const std::vector<std::string>& dns_names) {
  const common::TimePoint start = clock_.Now();
  absl::StatusOr<IssuedX509Svid> result = [&]() -> absl::StatusOr<IssuedX509Svid> {
    SPINEL_ASSIGN_OR_RETURN(common::Duration lifetime, EffectiveTtl(id, false, ttl));
    SPINEL_ASSIGN_OR_RETURN(std::shared_ptr<const AuthoritySnapshot> snapshot, SnapshotFor(id));
    if (!snapshot->x509_signer) {
      return absl::UnavailableError(
          StrCat("no active X.509 authority for ", id.trust_domain().name()));
    }
    SPINEL_ASSIGN_OR_RETURN(std::string leaf,
                            snapshot->x509_signer->SignDer(key, id, start, lifetime, dns_names));
    // The signer ends the SVID at the CA's notAfter when that comes first; whole seconds.
    const common::TimePoint expires_at =
        std::min(common::FromUnixSeconds(common::ToUnixSeconds(start + lifetime)),
                 snapshot->x509_signer->ca_certificate().NotAfter());
    IssuedX509Svid issued{{std::move(leaf)}, expires_at};
    for (const common::Certificate& cert : snapshot->chain_tail) {
      issued.chain_der.push_back(cert.ToDer());
    }
    return issued;
  }();
  Observe("x509", id, start, result.ok());
  return result;
}

absl::StatusOr<IssuedX509Svid> Issuer::SignX509Svid(const common::SpiffeId& id,
                                                    const common::Csr& csr, common::Duration ttl,
                                                    const std::vector<std::string>& dns_names) {
  return Sign(id, csr, ttl, dns_names);
}

absl::StatusOr<IssuedX509Svid> Issuer::SignX509Svid(const common::SpiffeId& id,
                                                    const common::PublicKey& public_key,
                                                    common::Duration ttl,
                                                    const std::vector<std::string>& dns_names) {
  return Sign(id, public_key, ttl, dns_names);
}

absl::StatusOr<IssuedJwtSvid> Issuer::MintJwtSvid(const common::SpiffeId& id,
                                                  const std::vector<std::string>& audience,
                                                  common::Duration ttl) {
  const common::TimePoint start = clock_.Now();
  absl::StatusOr<IssuedJwtSvid> result = [&]() -> absl::StatusOr<IssuedJwtSvid> {
    if (audience.empty()) return absl::InvalidArgumentError("audience must be specified");
    SPINEL_ASSIGN_OR_RETURN(common::Duration lifetime, EffectiveTtl(id, true, ttl));
    SPINEL_ASSIGN_OR_RETURN(std::shared_ptr<const AuthoritySnapshot> snapshot, SnapshotFor(id));
    if (!snapshot->jwt_signer || snapshot->active_jwt == nullptr) {
      return absl::UnavailableError(StrCat("no active JWT key for ", id.trust_domain().name()));
    }
    // Whole seconds, and never past the signing key's own lifetime.
    common::TimePoint issued_at = common::FromUnixSeconds(common::ToUnixSeconds(start));
    common::TimePoint expires_at =
        std::min(common::FromUnixSeconds(common::ToUnixSeconds(issued_at + lifetime)),
                 snapshot->active_jwt->not_after);
    common::JwtSvidClaims claims{id, audience, issued_at, expires_at, nullptr};
    SPINEL_ASSIGN_OR_RETURN(std::string token, snapshot->jwt_signer->Mint(claims));
    return IssuedJwtSvid{std::move(token), expires_at};
  }();
  Observe("jwt", id, start, result.ok());
  return result;
}

absl::StatusOr<IssuedWitSvid> Issuer::MintWitSvid(const common::SpiffeId& id,
                                                  const common::ConfirmationKey& workload_key,
                                                  common::Duration ttl) {
  const common::TimePoint start = clock_.Now();
  absl::StatusOr<IssuedWitSvid> result = [&]() -> absl::StatusOr<IssuedWitSvid> {
    SPINEL_ASSIGN_OR_RETURN(common::Duration lifetime, EffectiveTtl(id, SvidKind::kWit, ttl));
    SPINEL_ASSIGN_OR_RETURN(std::shared_ptr<const AuthoritySnapshot> snapshot, SnapshotFor(id));
    if (!snapshot->wit_signer || snapshot->active_wit == nullptr) {
      return absl::UnavailableError(StrCat("no active WIT key for ", id.trust_domain().name()));
    }
    // Whole seconds, and never past the signing key's own lifetime.
    common::TimePoint issued_at = common::FromUnixSeconds(common::ToUnixSeconds(start));
    common::TimePoint expires_at =
        std::min(common::FromUnixSeconds(common::ToUnixSeconds(issued_at + lifetime)),
                 snapshot->active_wit->not_after);
    if (expires_at <= issued_at) {
      return absl::UnavailableError(
          StrCat("the WIT key of ", id.trust_domain().name(), " expires too soon to sign"));
    }
    common::WitSvidClaims claims{id, issued_at, expires_at};
    SPINEL_ASSIGN_OR_RETURN(std::string token, snapshot->wit_signer->Mint(claims, workload_key));
    return IssuedWitSvid{std::move(token), expires_at};
  }();
  Observe("wit", id, start, result.ok());
  return result;
}

absl::StatusOr<IssuedDelegationToken> Issuer::SignDelegationToken(common::DelegationClaims claims) {
  const common::TimePoint start = clock_.Now();
  if (claims.actors.empty()) return absl::InvalidArgumentError("a delegation needs an actor");
  const common::SpiffeId actor = claims.actors.front();
  absl::StatusOr<IssuedDelegationToken> result = [&]() -> absl::StatusOr<IssuedDelegationToken> {
    SPINEL_ASSIGN_OR_RETURN(std::shared_ptr<const AuthoritySnapshot> snapshot, SnapshotFor(actor));
    if (!snapshot->delegation_signer || snapshot->active_jwt == nullptr) {
      return absl::UnavailableError(StrCat("no active JWT key for ", actor.trust_domain().name()));
    }
    claims.expires_at = std::min(claims.expires_at, snapshot->active_jwt->not_after);
    if (claims.expires_at <= claims.issued_at) {
      return absl::UnavailableError(
          StrCat("the JWT key of ", actor.trust_domain().name(), " expires too soon to sign"));
    }
    SPINEL_ASSIGN_OR_RETURN(common::MintedDelegationToken minted,
                            snapshot->delegation_signer->Mint(claims));
    return IssuedDelegationToken{std::move(minted.token), std::move(minted.jti), claims.expires_at};
  }();
  Observe("delegation", actor, start, result.ok());
  return result;
}

void Issuer::Observe(std::string kind, const common::SpiffeId& id, common::TimePoint start,
                     bool ok) {
  if (!observer_) return;
  observer_(IssuanceRecord{std::move(kind), id, clock_.Now() - start, ok});
}

}  // namespace spinel::server
