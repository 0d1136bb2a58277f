// Conversions of approvals and audit events between the datastore records (types.h) and the
// spinel.v1 protos (types.proto), shared by the agent and admin APIs. Approval times in the
// proto are Unix seconds (0 for "not yet"); audit times are Unix milliseconds.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/status.h"
#include "common/clock.h"
#include "server/datastore/types.h"
#include "types.pb.h"

namespace spinel::server {

// `now` decides whether a pending or approved request shows as "expired".
spinel::v1::Approval ApprovalToProto(const ApprovalRecord& approval, common::TimePoint now);
spinel::v1::AuditEvent AuditEventToProto(const AuditEvent& event);
// InvalidArgument "<field>: ..." unless `ms` is a Unix time in milliseconds that a TimePoint can
// hold (0 up to the year 2262): times from the wire are checked before they are converted.
absl::Status CheckUnixMillis(std::string_view field, int64_t ms);
// The caller-supplied fields of a reported event, its delegation (user and actor chain)
// included; sequence and hashes are ignored; time_ms 0 stays the epoch, which the datastore
// stores as now.
AuditEvent AuditEventFromProto(const spinel::v1::AuditEvent& proto);

}  // namespace spinel::server
