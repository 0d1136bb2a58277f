// Issuer: mints X509-SVIDs, JWT-SVIDs and WIT-SVIDs with the active authority of the SPIFFE ID's
// trust domain (CaManager). It decides lifetimes: for a zone, a requested TTL of 0 means the zone
// default and anything above the zone's cap is cut to the cap; for the control trust domain
// (agent and server SVIDs) the caller's TTL is used as is. Every SVID's lifetime also ends no
// later than the signing authority's (the X.509 signer caps notAfter; JWT and WIT exp are capped
// here at the signing key's notAfter).
//
// Callers authorize first: the Issuer signs whatever it is asked for. Observers hear of every
// signing (for metrics and audit). Thread-safe; signing never blocks on rotation.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/certificate.h"
#include "common/clock.h"
#include "common/csr.h"
#include "common/delegation_token.h"
#include "common/keys.h"
#include "common/spiffe_id.h"
#include "common/wit_svid.h"
#include "server/ca/ca_manager.h"
#include "server/zones/zone_state.h"

namespace spinel::server {

struct IssuedX509Svid {
  std::vector<std::string> chain_der;  // leaf first, then intermediates (upstream mode)
  common::TimePoint expires_at;
};

struct IssuedJwtSvid {
  std::string token;
  common::TimePoint expires_at;
};

struct IssuedWitSvid {
  std::string token;
  common::TimePoint expires_at;
};

struct IssuedDelegationToken {
  std::string token;
  std::string jti;
  common::TimePoint expires_at;
};

// Which zone lifetime (x509_svid_ttl, jwt_svid_ttl, wit_svid_ttl) applies.
enum class SvidKind { kX509, kJwt, kWit };

struct IssuanceRecord {
  std::string kind;  // "x509", "jwt", "wit" or "delegation"
  common::SpiffeId id;
  common::Duration latency{};
  bool ok = false;
};

class Issuer {
 public:
  using Observer = std::function<void(const IssuanceRecord&)>;

  Issuer(CaManager& cas, const ZoneState& zones, common::TrustDomain control,
         const common::Clock& clock)
      : cas_(cas), zones_(zones), control_(std::move(control)), clock_(clock) {}

  // `ttl` zero means the zone default. NotFound when the server does not sign for the ID's
  // trust domain; InvalidArgument for a root-path ID or bad DNS names. The CSR form is the fast
  // path (its key is used as parsed and verified).
  absl::StatusOr<IssuedX509Svid> SignX509Svid(const common::SpiffeId& id, const common::Csr& csr,
                                              common::Duration ttl,
                                              const std::vector<std::string>& dns_names = {});
  absl::StatusOr<IssuedX509Svid> SignX509Svid(const common::SpiffeId& id,
                                              const common::PublicKey& public_key,
                                              common::Duration ttl,
                                              const std::vector<std::string>& dns_names = {});
  // `audience` must not be empty.
  absl::StatusOr<IssuedJwtSvid> MintJwtSvid(const common::SpiffeId& id,
                                            const std::vector<std::string>& audience,
                                            common::Duration ttl);

  // A WIT-SVID for `id` bound to `workload_key` (its cnf.jwk), signed with the trust domain's
  // active WIT key. InvalidArgument when the key does not fit its algorithm; Unavailable
  // without an active WIT key.
  absl::StatusOr<IssuedWitSvid> MintWitSvid(const common::SpiffeId& id,
                                            const common::ConfirmationKey& workload_key,
                                            common::Duration ttl);

  // A delegation token with `claims` (planned by common::ExchangeSubjectToken, which decided
  // the lifetime), signed with the active JWT key of the current actor's trust domain; its exp
  // is cut to that key's notAfter. Unavailable without an active JWT key; InvalidArgument from
  // DelegationTokenSigner::Mint.
  absl::StatusOr<IssuedDelegationToken> SignDelegationToken(common::DelegationClaims claims);

  // The lifetime an SVID of `id` gets when `requested` is asked for.
  absl::StatusOr<common::Duration> EffectiveTtl(const common::SpiffeId& id, SvidKind kind,
                                                common::Duration requested) const;
  absl::StatusOr<common::Duration> EffectiveTtl(const common::SpiffeId& id, bool jwt,
                                                common::Duration requested) const {
    return EffectiveTtl(id, jwt ? SvidKind::kJwt : SvidKind::kX509, requested);
  }

  void SetObserver(Observer observer) { observer_ = std::move(observer); }

 private:
  absl::StatusOr<std::shared_ptr<const AuthoritySnapshot>> SnapshotFor(
      const common::SpiffeId& id) const;
  template <typename KeySource>
  absl::StatusOr<IssuedX509Svid> Sign(const common::SpiffeId& id, const KeySource& key,
                                      common::Duration ttl,
                                      const std::vector<std::string>& dns_names);
  void Observe(std::string kind, const common::SpiffeId& id, common::TimePoint start, bool ok);

  CaManager& cas_;
  const ZoneState& zones_;
  const common::TrustDomain control_;
  const common::Clock& clock_;
  Observer observer_;  // set before serving starts
};

}  // namespace spinel::server
