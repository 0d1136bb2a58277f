#include "server/ca/zone_authority.h"

#include <algorithm>

#include <openssl/rand.h>

#include "common/log.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/x509_ca.h"

namespace spinel::server {
namespace {

using common::TimePoint;

template <typename Slot>
Slot* FindSlot(std::vector<Slot>& slots, SlotState state) {
  auto it =
      std::find_if(slots.begin(), slots.end(), [state](const Slot& s) { return s.state == state; });
  return it == slots.end() ? nullptr : &*it;
}

// One rotation step for a list of slots (see the header for the rules). `make` creates a new
// slot in the given phase.
template <typename Slot, typename Make>
absl::StatusOr<bool> RotateSlots(std::vector<Slot>& slots, TimePoint now, Make make) {
  size_t pruned = std::erase_if(slots, [now](const Slot& s) { return s.NotAfter() <= now; });
  bool changed = pruned > 0;
  Slot* active = FindSlot(slots, SlotState::kActive);
  Slot* prepared = FindSlot(slots, SlotState::kPrepared);
  if (active == nullptr) {
    if (prepared != nullptr) {
      prepared->state = SlotState::kActive;
      return true;
    }
    SPINEL_ASSIGN_OR_RETURN(Slot fresh, make(SlotState::kActive));
    slots.push_back(std::move(fresh));
    return true;
  }
  const auto life = active->NotAfter() - active->NotBefore();
  if (prepared == nullptr && now >= active->NotBefore() + life / 2) {
    SPINEL_ASSIGN_OR_RETURN(Slot fresh, make(SlotState::kPrepared));
    slots.push_back(std::move(fresh));
    return true;
  }
  if (prepared != nullptr && now >= active->NotBefore() + life * 5 / 6) {
    active->state = SlotState::kOld;
    prepared->state = SlotState::kActive;
    return true;
  }
  return changed;
}

template <typename Slot>
void ActivatePrepared(std::vector<Slot>& slots) {
  for (Slot& s : slots) {
    if (s.state == SlotState::kActive) s.state = SlotState::kOld;
  }
  FindSlot(slots, SlotState::kPrepared)->state = SlotState::kActive;
}

bool KidTaken(const AuthorityState& state, const std::string& kid) {
  auto same = [&](const JwtAuthority& a) { return a.kid == kid; };
  return std::any_of(state.jwt.begin(), state.jwt.end(), same) ||
         std::any_of(state.wit.begin(), state.wit.end(), same);
}

std::string RandomKid() {
  unsigned char bytes[16];
  RAND_bytes(bytes, sizeof(bytes));
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string kid;
  for (unsigned char b : bytes) kid += kAlphabet[b % 62];
  return kid;
}

}  // namespace

std::vector<common::Certificate> AuthoritySnapshot::X509TrustAnchors() const {
  std::vector<common::Certificate> anchors;
  for (const X509Authority& a : x509) {
    const common::Certificate& anchor = a.TrustAnchor();
    bool seen = std::any_of(anchors.begin(), anchors.end(),
                            [&](const common::Certificate& c) { return c.Equals(anchor); });
    if (!seen) anchors.push_back(anchor);
  }
  return anchors;
}

const X509Authority* AuthoritySnapshot::ActiveX509() const {
  for (const X509Authority& authority : x509) {
    if (authority.state == SlotState::kActive) return &authority;
  }
  return nullptr;
}

common::Bundle AuthoritySnapshot::ToBundle() const {
  common::Bundle bundle;
  bundle.trust_domain = trust_domain;
  bundle.x509_authorities = X509TrustAnchors();
  for (const JwtAuthority& a : jwt) bundle.jwt_authorities.emplace(a.kid, *a.public_key);
  for (const WitAuthority& a : wit) bundle.wit_authorities.emplace(a.kid, *a.public_key);
  bundle.sequence = sequence;
  return bundle;
}

absl::StatusOr<std::unique_ptr<ZoneAuthority>> ZoneAuthority::Open(ZoneAuthorityOptions options,
                                                                   std::string journal_dir,
                                                                   const common::Clock& clock) {
  std::unique_ptr<ZoneAuthority> authority(
      new ZoneAuthority(std::move(options), std::move(journal_dir), clock));
  SPINEL_ASSIGN_OR_RETURN(std::optional<AuthorityState> loaded, authority->journal_.Load());
  common::MutexLock lock(authority->mutex_);
  if (loaded) {
    authority->state_ = std::move(*loaded);
    SPINEL_ASSIGN_OR_RETURN(authority->snapshot_, authority->BuildSnapshot(authority->state_));
  }
  AuthorityState next = authority->state_;
  SPINEL_ASSIGN_OR_RETURN(bool changed, authority->RotateAll(next, clock.Now()));
  if (changed || !loaded) {
    SPINEL_RETURN_IF_ERROR(authority->CommitLocked(std::move(next)));
  }
  return authority;
}

absl::StatusOr<X509Authority> ZoneAuthority::NewX509(SlotState state) const {
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate(options_.key_type));
  const TimePoint now = clock_.Now();
  absl::StatusOr<common::Certificate> cert;
  if (options_.upstream) {
    SPINEL_ASSIGN_OR_RETURN(common::PublicKey pub, key.Public());
    cert = common::CreateIntermediateCa(options_.trust_domain, pub, *options_.upstream->key,
                                        options_.upstream->certificate, now, options_.ca_ttl);
  } else {
    cert = common::CreateSelfSignedCa(options_.trust_domain, key, now, options_.ca_ttl);
  }
  if (!cert.ok()) return cert.status();
  std::optional<common::Certificate> upstream_root;
  if (options_.upstream) upstream_root = options_.upstream->certificate;
  return X509Authority{.id = cert->SubjectKeyIdHex(),
                       .state = state,
                       .certificate = *cert,
                       .upstream_root = std::move(upstream_root),
                       .intermediates = {},
                       .key = std::make_shared<const common::PrivateKey>(std::move(key))};
}

absl::StatusOr<JwtAuthority> ZoneAuthority::NewKey(SlotState state,
                                                   const AuthorityState& taken) const {
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate(options_.key_type));
  JwtAuthority a;
  do {
    a.kid = RandomKid();
  } while (KidTaken(taken, a.kid));
  a.state = state;
  a.not_before = clock_.Now();
  a.not_after = a.not_before + options_.ca_ttl;
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey pub, key.Public());
  a.public_key = pub;
  a.key = std::make_shared<const common::PrivateKey>(std::move(key));
  return a;
}

absl::StatusOr<bool> ZoneAuthority::RotateAll(AuthorityState& next, TimePoint now) const {
  SPINEL_ASSIGN_OR_RETURN(bool x509_changed,
                          RotateSlots(next.x509, now, [&](SlotState s) { return NewX509(s); }));
  SPINEL_ASSIGN_OR_RETURN(bool jwt_changed,
                          RotateSlots(next.jwt, now, [&](SlotState s) { return NewKey(s, next); }));
  SPINEL_ASSIGN_OR_RETURN(bool wit_changed,
                          RotateSlots(next.wit, now, [&](SlotState s) { return NewKey(s, next); }));
  return x509_changed || jwt_changed || wit_changed;
}

absl::StatusOr<bool> ZoneAuthority::Rotate() {
  common::MutexLock lock(mutex_);
  AuthorityState next = state_;
  SPINEL_ASSIGN_OR_RETURN(bool changed, RotateAll(next, clock_.Now()));
  if (!changed) return false;
  SPINEL_RETURN_IF_ERROR(CommitLocked(std::move(next)));
  return true;
}

absl::Status ZoneAuthority::Prepare() {
  common::MutexLock lock(mutex_);
  if (FindSlot(state_.x509, SlotState::kPrepared) || FindSlot(state_.jwt, SlotState::kPrepared)) {
    return absl::FailedPreconditionError(common::StrCat(
        "trust domain ", options_.trust_domain.name(), " already has a prepared authority"));
  }
  AuthorityState next = state_;
  SPINEL_ASSIGN_OR_RETURN(X509Authority x509, NewX509(SlotState::kPrepared));
  next.x509.push_back(std::move(x509));
  SPINEL_ASSIGN_OR_RETURN(JwtAuthority jwt, NewKey(SlotState::kPrepared, next));
  next.jwt.push_back(std::move(jwt));
  if (!FindSlot(next.wit, SlotState::kPrepared)) {
    SPINEL_ASSIGN_OR_RETURN(WitAuthority wit, NewKey(SlotState::kPrepared, next));
    next.wit.push_back(std::move(wit));
  }
  return CommitLocked(std::move(next));
}

absl::Status ZoneAuthority::Activate() {
  common::MutexLock lock(mutex_);
  if (!FindSlot(state_.x509, SlotState::kPrepared) || !FindSlot(state_.jwt, SlotState::kPrepared)) {
    return absl::FailedPreconditionError(
        common::StrCat("trust domain ", options_.trust_domain.name(),
                       " has no prepared authority to activate (run prepare first)"));
  }
  AuthorityState next = state_;
  ActivatePrepared(next.x509);
  ActivatePrepared(next.jwt);
  if (FindSlot(next.wit, SlotState::kPrepared)) ActivatePrepared(next.wit);
  return CommitLocked(std::move(next));
}

absl::Status ZoneAuthority::CommitLocked(AuthorityState next) {
  next.sequence = state_.sequence + 1;
  SPINEL_ASSIGN_OR_RETURN(std::shared_ptr<const AuthoritySnapshot> snapshot, BuildSnapshot(next));
  SPINEL_RETURN_IF_ERROR(journal_.Save(next));
  state_ = std::move(next);
  snapshot_ = std::move(snapshot);
  LOG_INFO("authorities changed", {{"trust_domain", options_.trust_domain.name()},
                                   {"sequence", std::to_string(state_.sequence)}});
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const AuthoritySnapshot>> ZoneAuthority::BuildSnapshot(
    const AuthorityState& state) const {
  auto snapshot = std::make_shared<AuthoritySnapshot>();
  snapshot->trust_domain = options_.trust_domain;
  snapshot->sequence = state.sequence;
  snapshot->x509 = state.x509;
  snapshot->jwt = state.jwt;
  snapshot->wit = state.wit;
  for (const X509Authority& a : snapshot->x509) {
    if (a.state != SlotState::kActive) continue;
    SPINEL_ASSIGN_OR_RETURN(auto signer, common::X509SvidSigner::Create(
                                             options_.trust_domain, a.certificate, a.key->Clone()));
    snapshot->x509_signer = std::move(signer);
    if (a.upstream_root) {
      snapshot->chain_tail.push_back(a.certificate);
      snapshot->chain_tail.insert(snapshot->chain_tail.end(), a.intermediates.begin(),
                                  a.intermediates.end());
    }
  }
  for (const JwtAuthority& a : snapshot->jwt) {
    if (a.state != SlotState::kActive) continue;
    snapshot->active_jwt = &a;
    SPINEL_ASSIGN_OR_RETURN(auto signer,
                            common::JwtSvidSigner::Create(options_.trust_domain, *a.key, a.kid));
    snapshot->jwt_signer = std::move(signer);
    SPINEL_ASSIGN_OR_RETURN(auto delegation, common::DelegationTokenSigner::Create(
                                                 options_.trust_domain, *a.key, a.kid));
    snapshot->delegation_signer = std::move(delegation);
  }
  for (const WitAuthority& a : snapshot->wit) {
    if (a.state != SlotState::kActive) continue;
    snapshot->active_wit = &a;
    SPINEL_ASSIGN_OR_RETURN(auto signer,
                            common::WitSvidSigner::Create(options_.trust_domain, *a.key, a.kid));
    snapshot->wit_signer = std::move(signer);
  }
  return std::shared_ptr<const AuthoritySnapshot>(std::move(snapshot));
}

std::shared_ptr<const AuthoritySnapshot> ZoneAuthority::Snapshot() const {
  common::MutexLock lock(mutex_);
  return snapshot_;
}

}  // namespace spinel::server
