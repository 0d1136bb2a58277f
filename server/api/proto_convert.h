// Conversions between the datastore records and the spinel.v1 protos of the agent and admin
// APIs. FromProto functions validate (SPIFFE IDs, selectors) and return InvalidArgument naming
// the field.
#pragma once

#include "absl/status/statusor.h"
#include "common/bundle.h"
#include "server/datastore/types.h"
#include "types.pb.h"

namespace spinel::server {

spinel::v1::Entry EntryToProto(const RegistrationEntry& entry);
// Parses every field; empty parent or SPIFFE IDs stay empty (the registry rejects them).
absl::StatusOr<RegistrationEntry> EntryFromProto(const spinel::v1::Entry& proto);
spinel::v1::Agent AgentToProto(const AttestedAgent& agent);
// InvalidArgument when the bundle cannot be encoded.
absl::StatusOr<spinel::v1::Bundle> BundleToProto(const common::Bundle& bundle);
absl::StatusOr<common::Bundle> BundleFromProto(const spinel::v1::Bundle& proto);

}  // namespace spinel::server
