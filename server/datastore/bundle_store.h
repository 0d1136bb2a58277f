// BundleStore: the stored trust bundles (federated trust domains' bundles) and the bundles each
// server replica publishes for its own trust domains (one part of the Datastore, datastore.h).
//
// Contract: that of every Datastore part (datastore.h): thread-safe, durable, each method one
// transaction, errors as values with the codes listed there, no default arguments.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/spiffe_id.h"
#include "server/datastore/types.h"

namespace spinel::server {

class BundleStore {
 public:
  virtual ~BundleStore() = default;

  // --- Bundles ---------------------------------------------------------------------------
  // Creates or replaces the bundle of `bundle.trust_domain`. FailedPrecondition if the stored
  // sequence is higher than `bundle.sequence` (a stale writer must not roll a bundle back);
  // InvalidArgument if bundle_json is not a JSON object.
  virtual absl::StatusOr<BundleRecord> SetBundle(const BundleRecord& bundle) = 0;
  virtual absl::StatusOr<BundleRecord> GetBundle(const common::TrustDomain& td) = 0;
  // In trust-domain order.
  virtual absl::StatusOr<std::vector<BundleRecord>> ListBundles() = 0;
  virtual absl::Status DeleteBundle(const common::TrustDomain& td) = 0;

  // --- Server replicas' own bundles ------------------------------------------------------
  // Creates or replaces the bundle `record.server_id` publishes for `record.trust_domain`
  // (updated_at = now) and records a bundle change of that trust domain, so other replicas
  // (PgChangeListener) and their agents see it. FailedPrecondition if the stored sequence of
  // that (server_id, trust_domain) is higher; InvalidArgument for an empty server_id or a
  // bundle_json that is not a JSON object.
  virtual absl::StatusOr<ServerBundleRecord> PublishServerBundle(
      const ServerBundleRecord& record) = 0;
  // Every replica's published bundles, ordered by trust domain, then server_id.
  virtual absl::StatusOr<std::vector<ServerBundleRecord>> ListServerBundles() = 0;
  // Removes what `server_id` published (a decommissioned replica); records a bundle change
  // for each trust domain it had. Returns how many records were removed.
  virtual absl::StatusOr<int64_t> DeleteServerBundles(std::string_view server_id) = 0;
};

}  // namespace spinel::server
