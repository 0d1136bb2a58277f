// Validation and row decoding of federation relationships and of the replicas' own bundles,
// used by the SQL store (sql_federation.cc, sql_bundles.cc) (see datastore.h for the contract).
//
// Rows are read as SqlRows (sql_value.h): columns are in the order of kFederationColumns /
// kServerBundleColumns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/datastore/sql_value.h"
#include "server/datastore/types.h"

namespace spinel::server {

inline constexpr char kFederationColumns[] =
    "trust_domain, bundle_endpoint_url, profile, endpoint_spiffe_id, web_ca_pem, created_at, "
    "updated_at, last_attempt_at, last_success_at, next_refresh_at, last_error, "
    "consecutive_failures";
inline constexpr char kServerBundleColumns[] =
    "server_id, trust_domain, bundle_json, sequence, updated_at";

inline constexpr char kProfileHttpsWeb[] = "https_web";
inline constexpr char kProfileHttpsSpiffe[] = "https_spiffe";

// InvalidArgument naming the trust domain and the problem (see CreateFederationRelationship).
absl::Status ValidateFederationRelationship(const FederationRelationship& relationship);
// The initial bundle given with a new relationship: of the same trust domain, a JSON object.
absl::Status ValidateInitialBundle(const FederationRelationship& relationship,
                                   const BundleRecord& bundle);
absl::Status ValidateServerBundle(const ServerBundleRecord& record);

absl::StatusOr<FederationRelationship> ReadFederationRelationship(const SqlRow& row);
absl::StatusOr<ServerBundleRecord> ReadServerBundle(const SqlRow& row);

absl::Status FederationNotFound(const common::TrustDomain& td);
// The sequence guard of PublishServerBundle: FailedPrecondition when `stored` is newer.
absl::Status CheckServerBundleSequence(const ServerBundleRecord& stored,
                                       const ServerBundleRecord& next);

}  // namespace spinel::server
