// ZoneAuthority: the X.509 CAs, JWT signing keys and WIT-SVID signing keys of one trust domain
// (a zone, or the control plane) and their rotation in phases (authority_slot.h). The three
// kinds rotate side by side by the same rules; every JWT and WIT key gets a kid that no other
// key of the trust domain has (the bundle needs kids unique across jwt-svid and wit-svid keys).
//
// Rotation (Rotate(), called periodically by the rotator, and at start):
//   - no usable active authority: the prepared one is activated, or a new one is created;
//   - half of the active authority's lifetime gone: the next one is prepared (and published);
//   - five sixths gone: the prepared one becomes active and the active one old;
//   - an old authority is pruned once it has expired (every SVID it signed is capped at its
//     notAfter, so nothing valid still needs it).
// Every change bumps the bundle sequence and is saved through the journal before it becomes
// visible. Prepare()/Activate() force the two steps (operator rotation).
//
// Readers take Snapshot(): an immutable view (bundle contents, the active signers) replaced
// atomically on change, so signing never waits on rotation. Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/bundle.h"
#include "common/clock.h"
#include "common/delegation_token.h"
#include "common/jwt_svid.h"
#include "common/keys.h"
#include "common/mutex.h"
#include "common/spiffe_id.h"
#include "common/wit_svid.h"
#include "common/x509_svid.h"
#include "server/ca/authority_journal.h"

namespace spinel::server {

struct UpstreamCa {
  common::Certificate certificate;
  std::shared_ptr<const common::PrivateKey> key;
};

struct ZoneAuthorityOptions {
  common::TrustDomain trust_domain;
  common::Duration ca_ttl = std::chrono::hours(24);
  common::KeyType key_type = common::KeyType::kEcP256;
  std::optional<UpstreamCa> upstream;
};

// What signers and bundle publishers see; never changes once built.
struct AuthoritySnapshot {
  common::TrustDomain trust_domain;
  uint64_t sequence = 0;
  std::vector<X509Authority> x509;  // every phase; bundle = their trust anchors
  std::vector<JwtAuthority> jwt;    // every phase; bundle = their public keys
  std::vector<WitAuthority> wit;    // every phase; bundle = their public keys (use wit-svid)
  // The active X.509 signer and what follows the leaf in every SVID chain.
  std::shared_ptr<const common::X509SvidSigner> x509_signer;
  std::vector<common::Certificate> chain_tail;
  const JwtAuthority* active_jwt = nullptr;  // points into `jwt`
  std::shared_ptr<const common::JwtSvidSigner> jwt_signer;
  // Delegation tokens (token exchange) are signed with the active JWT key too: verifiers find
  // it among the zone's jwt-svid authorities; the token's typ keeps the two kinds apart.
  std::shared_ptr<const common::DelegationTokenSigner> delegation_signer;
  const WitAuthority* active_wit = nullptr;  // points into `wit`
  std::shared_ptr<const common::WitSvidSigner> wit_signer;

  // Distinct trust anchors of every phase (the X.509 part of the bundle), in slot order.
  std::vector<common::Certificate> X509TrustAnchors() const;
  // The trust domain's bundle: every phase's trust anchor, JWT and WIT key, with the sequence.
  common::Bundle ToBundle() const;
  // The X.509 authority in the active phase; null when there is none.
  const X509Authority* ActiveX509() const;
};

class ZoneAuthority {
 public:
  // Loads the journal in `journal_dir` or starts a fresh one, then rotates once so an active
  // authority exists.
  static absl::StatusOr<std::unique_ptr<ZoneAuthority>> Open(ZoneAuthorityOptions options,
                                                             std::string journal_dir,
                                                             const common::Clock& clock);

  // Applies the time-driven phase changes; true when anything changed.
  absl::StatusOr<bool> Rotate();
  // Creates the next X.509, JWT and WIT authorities in the prepared phase (a WIT key only when
  // none is prepared yet). FailedPrecondition when an X.509 or JWT one is already prepared.
  absl::Status Prepare();
  // Makes the prepared authorities active (the active ones become old). FailedPrecondition
  // when no X.509 or JWT authority is prepared.
  absl::Status Activate();

  std::shared_ptr<const AuthoritySnapshot> Snapshot() const;
  const common::TrustDomain& trust_domain() const { return options_.trust_domain; }

 private:
  ZoneAuthority(ZoneAuthorityOptions options, std::string journal_dir, const common::Clock& clock)
      : options_(std::move(options)), journal_(std::move(journal_dir)), clock_(clock) {}

  absl::StatusOr<X509Authority> NewX509(SlotState state) const;
  // A new JWT or WIT key whose kid is none of `taken`'s kids.
  absl::StatusOr<JwtAuthority> NewKey(SlotState state, const AuthorityState& taken) const;
  // One rotation step of every kind over `next`; true when anything changed.
  absl::StatusOr<bool> RotateAll(AuthorityState& next, common::TimePoint now) const;
  absl::Status CommitLocked(AuthorityState next) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::StatusOr<std::shared_ptr<const AuthoritySnapshot>> BuildSnapshot(
      const AuthorityState& state) const;

  const ZoneAuthorityOptions options_;
  AuthorityJournal journal_;
  const common::Clock& clock_;
  mutable common::Mutex mutex_;
  AuthorityState state_ ABSL_GUARDED_BY(mutex_);
  std::shared_ptr<const AuthoritySnapshot> snapshot_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace spinel::server
