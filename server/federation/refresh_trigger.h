// FederationRefreshTrigger: "fetch this federated bundle now", as the admin API's
// RefreshFederatedBundle asks it of the federation refresher (server/federation/).
#pragma once

#include "absl/status/statusor.h"
#include "common/spiffe_id.h"
#include "server/datastore/types.h"

namespace spinel::server {

class FederationRefreshTrigger {
 public:
  virtual ~FederationRefreshTrigger() = default;
  // Fetches the bundle of the relationship with `td` now (blocking, bounded by the fetch
  // timeout), stores it when it verifies, records the attempt, and returns the relationship as
  // stored after the attempt: a failed fetch is not an error of this call (its
  // refresh.last_error says why, and the last good bundle stays). NotFound when there is no
  // relationship with `td`; Unavailable when the datastore cannot be read or written.
  virtual absl::StatusOr<FederationRelationship> RefreshNow(const common::TrustDomain& td) = 0;
};

}  // namespace spinel::server
