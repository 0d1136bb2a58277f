// FederatedBundles: the stored bundles of foreign trust domains (the datastore's `bundles`
// table, filled by federation relationships) as agents are sent them.
//
// For(tds) returns, for each trust domain of `tds` that has a stored bundle, that bundle as a
// spinel::v1::Bundle {trust_domain, jwks = the stored JSON as is, sequence}. A trust domain
// without a stored bundle is left out (not an error). A stored bundle that common::Bundle::Parse
// refuses is left out too and logged once per content (an agent would refuse the whole sync
// update carrying it). Parse results are cached by trust domain and content, so recomputing
// many agents' views does not re-parse certificates.
//
// Thread-safe; the datastore must outlive it.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "common/spiffe_id.h"
#include "server/datastore/datastore.h"
#include "types.pb.h"

namespace spinel::server {

class FederatedBundles {
 public:
  explicit FederatedBundles(Datastore& datastore) : datastore_(datastore) {}

  // Datastore errors other than NotFound are returned.
  absl::StatusOr<std::vector<spinel::v1::Bundle>> For(
      const std::set<common::TrustDomain>& tds) const;

 private:
  // True when `record` parses as a SPIFFE bundle of its trust domain (cached).
  bool Servable(const BundleRecord& record) const;

  Datastore& datastore_;
  mutable common::Mutex mutex_;
  // trust domain -> (bundle JSON last checked, whether it parsed).
  mutable std::map<std::string, std::pair<std::string, bool>> checked_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace spinel::server
