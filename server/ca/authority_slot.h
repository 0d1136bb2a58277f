// The signing authorities of one trust domain (a zone, or the control plane), each in one of
// three phases, as in SPIRE:
//   prepared: published in the bundle, not yet signing (so every verifier learns it first);
//   active:   the one that signs;
//   old:      no longer signing, kept in the bundle until everything it signed has expired.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/certificate.h"
#include "common/clock.h"
#include "common/keys.h"

namespace spinel::server {

enum class SlotState { kPrepared, kActive, kOld };

std::string_view SlotStateName(SlotState state);
std::optional<SlotState> SlotStateFromName(std::string_view name);

// An X.509 CA of a trust domain.
struct X509Authority {
  std::string id;  // subject key identifier, hex
  SlotState state = SlotState::kPrepared;
  common::Certificate certificate;  // the CA that signs SVIDs
  // With an upstream authority: the upstream root (goes in the bundle) and the certificates
  // between `certificate` and it (sent with every SVID). Without: empty, and `certificate`
  // itself is the root.
  std::optional<common::Certificate> upstream_root;
  std::vector<common::Certificate> intermediates;
  std::shared_ptr<const common::PrivateKey> key;

  common::TimePoint NotBefore() const { return certificate.NotBefore(); }
  common::TimePoint NotAfter() const { return certificate.NotAfter(); }
  // What verifiers must trust for this authority: the upstream root, or the CA itself.
  const common::Certificate& TrustAnchor() const {
    return upstream_root ? *upstream_root : certificate;
  }
};

// A JWT signing key of a trust domain.
struct JwtAuthority {
  std::string kid;
  SlotState state = SlotState::kPrepared;
  common::TimePoint not_before;
  common::TimePoint not_after;
  std::shared_ptr<const common::PrivateKey> key;
  std::optional<common::PublicKey> public_key;

  common::TimePoint NotBefore() const { return not_before; }
  common::TimePoint NotAfter() const { return not_after; }
};

// A WIT-SVID signing key of a trust domain: the same shape as a JWT key, but always a key pair
// of its own (published with "use":"wit-svid"), so the bundle's "use" really separates the two
// token types (shared/spec/wimse.md §1.4 [Impl]). Its kid differs from every other kid of the
// trust domain.
using WitAuthority = JwtAuthority;

}  // namespace spinel::server
