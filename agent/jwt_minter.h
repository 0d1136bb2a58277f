// JwtMinter: where the agent gets JWT-SVIDs for an entry (the server mints them; the agent
// never holds a JWT signing key). The Workload API caches what it returns (jwt_svid_cache.h).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/identity_cache.h"
#include "common/clock.h"

namespace spinel::agent {

struct MintedJwtSvid {
  std::string token;
  common::TimePoint issued_at;
  common::TimePoint expires_at;
};

class JwtMinter {
 public:
  virtual ~JwtMinter() = default;
  // Mints a JWT-SVID for `entry` with `audience` (non-empty). Thread-safe.
  virtual absl::StatusOr<MintedJwtSvid> Mint(const CachedEntry& entry,
                                             const std::vector<std::string>& audience) = 0;
};

}  // namespace spinel::agent
