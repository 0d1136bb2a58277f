// WitMinter: where the agent gets WIT-SVIDs minted (the server's agent API MintWitSvids, via
// ServerClient): one batch of (entry id, workload public key) pairs. The workload key never
// leaves the node; the agent holds no WIT signing key.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace spinel::agent {

struct WitKeyRequest {
  std::string entry_id;
  std::string public_jwk;  // JSON text of the cnf JWK, with "alg"
};

struct MintedWit {
  std::string entry_id;
  absl::Status status;  // why this one was refused, when it was
  std::string token;
  common::TimePoint expires_at;
};

class WitMinter {
 public:
  virtual ~WitMinter() = default;
  // One result per request, in any order. A non-OK return means the whole call failed
  // (server unreachable). Thread-safe.
  virtual absl::StatusOr<std::vector<MintedWit>> MintWitSvids(
      const std::vector<WitKeyRequest>& keys) = 0;
};

}  // namespace spinel::agent
