// Federation relationships between the datastore record (server/datastore/types.h) and the
// admin API's spinel.v1.FederationRelationship (admin.proto), with the validation of what an
// operator may ask for. Every refusal is InvalidArgument "<field>: <problem>", the field named
// as in the proto (e.g. "bundle_endpoint_url"), so the admin API can return it as it is.
//
// Rules (the admin API applies them before anything is written):
//   trust_domain          a bare trust domain name (not a SPIFFE ID)
//   bundle_endpoint_url   https://host[:port][/path][?query]: a DNS name, IPv4 address or
//                         [IPv6] address; port 1-65535; no user info, no fragment, no spaces
//                         or control characters; at most kMaxBundleEndpointUrlBytes
//   profile               "https_web" or "https_spiffe"
//   endpoint_spiffe_id    required (a SPIFFE ID) for https_spiffe, refused for https_web
//   web_ca_pem            https_web only; when not empty, at least one PEM certificate
//   initial bundle        a SPIFFE bundle (common/bundle.h) with at least one authority, no
//                         X.509 authority of which names (URI SAN) another trust domain
// Whether the trust domain is one this server signs for is the caller's check (it needs the
// server's authorities). Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "admin.pb.h"
#include "common/spiffe_id.h"
#include "server/datastore/types.h"

namespace spinel::server {

inline constexpr char kProfileHttpsWeb[] = "https_web";
inline constexpr char kProfileHttpsSpiffe[] = "https_spiffe";
inline constexpr size_t kMaxBundleEndpointUrlBytes = 2048;

// OK when `url` follows the bundle_endpoint_url rule above; else InvalidArgument with the
// problem (without a field name).
absl::Status CheckBundleEndpointUrl(std::string_view url);

// The request fields of `proto` (trust_domain, bundle_endpoint_url, profile,
// endpoint_spiffe_id, web_ca_pem) as a record, validated; the output-only fields (times,
// refresh state, bundle) are ignored.
absl::StatusOr<FederationRelationship> FederationRelationshipFromProto(
    const spinel::v1::FederationRelationship& proto);

// `bundle_json` (field "initial_bundle") as the bundle record of `td`: its spiffe_sequence as
// the sequence (0 when absent), the JSON as given.
absl::StatusOr<BundleRecord> InitialBundleRecord(const common::TrustDomain& td,
                                                 std::string_view bundle_json);

// Every field of `relationship`, and `bundle` (the stored bundle of its trust domain) when
// there is one.
spinel::v1::FederationRelationship FederationRelationshipToProto(
    const FederationRelationship& relationship, const std::optional<BundleRecord>& bundle);

}  // namespace spinel::server
