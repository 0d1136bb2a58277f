// Conversions between the datastore records and the spinel.v1 protos of the agent and admin
// APIs (an entry from the admin API is parsed by ParseEntryField, admin_service_impl.h).
// FromProto functions validate and return InvalidArgument.
#pragma once

#include "absl/status/statusor.h"
#include "common/bundle.h"
#include "server/datastore/types.h"
#include "types.pb.h"

namespace spinel::server {

spinel::v1::Entry EntryToProto(const RegistrationEntry& entry);
spinel::v1::Agent AgentToProto(const AttestedAgent& agent);
// InvalidArgument when the bundle cannot be encoded.
absl::StatusOr<spinel::v1::Bundle> BundleToProto(const common::Bundle& bundle);
absl::StatusOr<common::Bundle> BundleFromProto(const spinel::v1::Bundle& proto);

}  // namespace spinel::server
