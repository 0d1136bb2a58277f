// The JSON form of registration entries: what `entry create --data FILE` reads and what
// `entry show --output json` writes, so a listing can be fed back as a batch.
//
//   {"entries": [
//     {"spiffe_id":     "spiffe://inference.ai.example.org/model-server",   required
//      "parent_id":     "spiffe://spinel.ai.example.org/spinel/agent/...",  required
//      "selectors":     ["unix:uid:1000", "unix:path:/usr/bin/server"],      required, >= 1
//      "x509_svid_ttl": "30m",      optional; a duration string or whole seconds; 0 = zone default
//      "jwt_svid_ttl":  "5m",       optional; as above
//      "dns_names":     ["model.example.org"],                                 optional
//      "hint":          "text",                                                optional
//      "admin":         false,                                                 optional
//      "expires_at":    "2027-01-31T12:00:00Z",   optional; RFC 3339 UTC or Unix seconds;
//                                                 absent, null, 0 or "never" = never
//      "id":            "...",      optional; absent = the server picks a UUID
//      "zone", "revision_number", "created_at", "updated_at"   written by show, ignored here
//     }, ...]}
//
// Unknown keys are errors (a typo must not silently drop a field). Every error is
// InvalidArgument naming the element, e.g. `entries[2].selectors[0]: selector type ...`.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "absl/status/statusor.h"
#include "admin.pb.h"
#include "server/cli/admin_client.h"

namespace spinel::server::cli {

// The --data format, for `entry create --help`.
inline constexpr char kEntriesJsonHelp[] = R"(--data FILE holds a JSON batch:
  {"entries": [{"spiffe_id": "spiffe://inference.ai.example.org/model-server",
                "parent_id": "spiffe://<control trust domain>/spinel/agent/...",
                "selectors": ["unix:uid:1000"],
                "x509_svid_ttl": "30m", "jwt_svid_ttl": "5m",
                "dns_names": ["model.example.org"], "hint": "", "admin": false,
                "expires_at": "2027-01-31T12:00:00Z"}]}
spiffe_id, parent_id and selectors are required; TTLs take durations or whole seconds
(0 = the zone default); expires_at takes RFC 3339 UTC or Unix seconds. The output of
`entry show --output json` is accepted as is (id is kept; zone, revision_number,
created_at and updated_at are ignored). Unknown keys are errors.)";

// Parses and validates (SPIFFE IDs, selectors, durations, times) a batch document.
absl::StatusOr<spinel::v1::CreateEntriesRequest> ParseEntriesJson(std::string_view text);

nlohmann::json EntryToJson(const spinel::v1::Entry& entry);
// The "Key: value" block of `entry show`.
Fields EntryFields(const spinel::v1::Entry& entry);

}  // namespace spinel::server::cli
