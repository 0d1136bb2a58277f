// AuthorityJournal: persists the authorities of one trust domain in a directory so a restart
// keeps them. Layout (all files mode 0600, directory 0700):
//   state.json               sequence and the ordered slots with their phases
//   x509-<id>.key / .pem     CA private key (PKCS#8 PEM) and certificate
//   x509-<id>.chain.pem      intermediates up to the upstream root (upstream mode only)
//   x509-<id>.root.pem       the upstream root (upstream mode only)
//   jwt-<kid>.key            JWT signing key (PKCS#8 PEM)
//   wit-<kid>.key            WIT-SVID signing key (PKCS#8 PEM); a state.json written before
//                            WIT keys existed has no "wit" list and loads with none
// Save() writes the key files first and state.json last, each atomically, so a crash at any
// point leaves either the old or the new state loadable; files no longer referenced are removed
// afterwards. Not thread-safe: the owning ZoneAuthority serialises calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "server/ca/authority_slot.h"

namespace spinel::server {

struct AuthorityState {
  uint64_t sequence = 0;  // bundle spiffe_sequence
  std::vector<X509Authority> x509;
  std::vector<JwtAuthority> jwt;
  std::vector<WitAuthority> wit;
};

class AuthorityJournal {
 public:
  explicit AuthorityJournal(std::string dir) : dir_(std::move(dir)) {}

  // The persisted state, or nullopt when the directory holds none yet. A state.json that
  // references a missing or unreadable file is an error (DataLoss), never silently replaced.
  absl::StatusOr<std::optional<AuthorityState>> Load() const;
  absl::Status Save(const AuthorityState& state);

  const std::string& dir() const { return dir_; }

 private:
  absl::Status SaveX509Files(const X509Authority& authority) const;
  // `prefix` is "jwt" or "wit": the key file is <prefix>-<kid>.key.
  absl::Status SaveKeyFile(std::string_view prefix, const JwtAuthority& authority) const;
  absl::StatusOr<X509Authority> LoadX509(const std::string& id, SlotState state) const;
  absl::StatusOr<JwtAuthority> LoadKeySlot(std::string_view prefix,
                                           const nlohmann::json& slot) const;
  void RemoveUnreferenced(const AuthorityState& state) const;

  std::string dir_;
};

}  // namespace spinel::server
