// IssuerWorld: the server's real issuing components in this process, built as the composition
// root builds them: the zones of a directory (default: the shipped zones) read with
// ReadZoneGeneration, one CaManager holding the control trust domain and every zone
// (authorities created under a temp directory), and the Issuer. No network, no datastore.
// Used by the in-process issuance benchmarks and to mint real SVIDs for the decision benchmark.
//
// Build with Create(); not copyable. The Issuer is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/support/process.h"
#include "server/ca/ca_manager.h"
#include "server/issuance/issuer.h"
#include "server/zones/zone_state.h"

namespace spinel::bench {

class IssuerWorld {
 public:
  // `zones_dir` empty: SourceDir()/trust-zones/zones.
  static absl::StatusOr<std::unique_ptr<IssuerWorld>> Create(const std::string& zones_dir = "");

  server::Issuer& issuer() { return *issuer_; }
  server::CaManager& cas() { return *cas_; }
  server::ZoneState& zones() { return *zones_; }
  const common::TrustDomain& control() const { return control_; }

 private:
  IssuerWorld() = default;

  TempDir dir_;  // first: removed after the components are gone
  common::TrustDomain control_;
  std::unique_ptr<server::ZoneState> zones_;
  std::unique_ptr<server::CaManager> cas_;
  std::unique_ptr<server::Issuer> issuer_;
};

}  // namespace spinel::bench
