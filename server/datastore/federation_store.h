// FederationStore: federation relationships with foreign trust domains and their refresh state
// (one part of the Datastore, datastore.h).
//
// Contract: that of every Datastore part (datastore.h): thread-safe, durable, each method one
// transaction, errors as values with the codes listed there, no default arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/spiffe_id.h"
#include "server/datastore/types.h"

namespace spinel::server {

class FederationStore {
 public:
  virtual ~FederationStore() = default;

  // Stores `relationship` (created_at = updated_at = now, refresh state empty) and, when given,
  // `initial_bundle` (which must be of the same trust domain) as the trust domain's bundle, in
  // one transaction. AlreadyExists if a relationship for the trust domain exists;
  // InvalidArgument for a URL that is not https://host..., a profile other than "https_web" /
  // "https_spiffe", https_spiffe without endpoint_spiffe_id, https_web with one, or an initial
  // bundle of another trust domain or not a JSON object.
  virtual absl::StatusOr<FederationRelationship> CreateFederationRelationship(
      const FederationRelationship& relationship,
      const std::optional<BundleRecord>& initial_bundle) = 0;
  // Replaces URL, profile, endpoint SPIFFE ID and web CAs (validated as on create); keeps
  // created_at and the refresh state, except that next_refresh_at becomes 0 (refresh soon).
  // NotFound if there is no relationship for the trust domain.
  virtual absl::StatusOr<FederationRelationship> UpdateFederationRelationship(
      const FederationRelationship& relationship) = 0;
  // Deletes the relationship and the stored bundle of its trust domain (a bundle change, so
  // agents stop being served it), in one transaction. NotFound if there is none.
  virtual absl::Status DeleteFederationRelationship(const common::TrustDomain& td) = 0;
  virtual absl::StatusOr<FederationRelationship> GetFederationRelationship(
      const common::TrustDomain& td) = 0;
  // In trust-domain order.
  virtual absl::StatusOr<std::vector<FederationRelationship>> ListFederationRelationships() = 0;
  // Replaces only the refresh state. NotFound if the relationship was deleted meanwhile (a
  // refresh racing a delete must not bring it back).
  virtual absl::StatusOr<FederationRelationship> RecordFederationRefresh(
      const common::TrustDomain& td, const FederationRefreshState& state) = 0;
};

}  // namespace spinel::server
