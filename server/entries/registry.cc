#include "server/entries/registry.h"

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/api/agent/node_attestation.h"
#include "server/datastore/records.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

// The zone's cap; a negative TTL never gets here (NormalizeEntry refuses it).
absl::Status CheckTtlCap(std::string_view what, int64_t ttl_seconds, const zones::TtlLimit& limit,
                         std::string_view zone) {
  const int64_t max = std::chrono::duration_cast<std::chrono::seconds>(limit.max_ttl).count();
  if (ttl_seconds > max) {
    return absl::InvalidArgumentError(
        StrCat(what, " of ", ttl_seconds, "s is above zone ", Quote(zone), "'s cap of ", max, "s"));
  }
  return absl::OkStatus();
}

}  // namespace

bool EntryRegistry::IsNodeAlias(const RegistrationEntry& entry) const {
  return entry.spiffe_id.MemberOf(control_) && entry.parent_id == ServerId(control_);
}

absl::Status EntryRegistry::ValidateParent(const RegistrationEntry& entry) const {
  if (!entry.parent_id.MemberOf(control_)) {
    return absl::InvalidArgumentError(
        StrCat("parent ID ", Quote(entry.parent_id.ToString()),
               " must be an agent or node alias in the control trust domain ", control_.name()));
  }
  if (entry.parent_id == ServerId(control_) && !IsNodeAlias(entry)) {
    return absl::InvalidArgumentError(
        "only node aliases (IDs in the control trust domain) may have the server as parent");
  }
  return absl::OkStatus();
}

absl::Status EntryRegistry::ValidateZoneRules(const RegistrationEntry& entry) const {
  std::shared_ptr<const zones::ZoneSet> zones = zones_.Get();
  const zones::Zone* zone = zones->ZoneOf(entry.spiffe_id);
  if (zone == nullptr) {
    return absl::InvalidArgumentError(
        StrCat("no zone has trust domain ", Quote(entry.spiffe_id.trust_domain().name()),
               " (the trust domain of ", entry.spiffe_id.ToString(), ")"));
  }
  SPINEL_RETURN_IF_ERROR(
      CheckTtlCap("X.509 SVID TTL", entry.x509_svid_ttl, zone->x509_svid_ttl, zone->name));
  SPINEL_RETURN_IF_ERROR(
      CheckTtlCap("JWT SVID TTL", entry.jwt_svid_ttl, zone->jwt_svid_ttl, zone->name));
  absl::StatusOr<AttestedAgent> agent = datastore_.GetAttestedAgent(entry.parent_id);
  if (agent.ok() && !zones::ZoneSet::MayHost(*zone, agent->selectors)) {
    return absl::FailedPreconditionError(StrCat("agent ", entry.parent_id.ToString(),
                                                " may not host zone ", Quote(zone->name),
                                                ": its node lacks the zone's node selectors"));
  }
  return absl::OkStatus();
}

absl::Status EntryRegistry::Validate(const RegistrationEntry& entry) const {
  // The rules of every stored entry (one place: the datastore's NormalizeEntry), then policy.
  SPINEL_RETURN_IF_ERROR(NormalizeEntry(entry).status());
  if (entry.spiffe_id.path().empty()) {
    return absl::InvalidArgumentError(
        StrCat("SPIFFE ID ", Quote(entry.spiffe_id.ToString()), " must have a path"));
  }
  SPINEL_RETURN_IF_ERROR(ValidateParent(entry));
  if (IsNodeAlias(entry)) return absl::OkStatus();
  return ValidateZoneRules(entry);
}

absl::StatusOr<RegistrationEntry> EntryRegistry::Create(RegistrationEntry entry) {
  SPINEL_RETURN_IF_ERROR(Validate(entry));
  return datastore_.CreateEntry(entry);
}

absl::StatusOr<RegistrationEntry> EntryRegistry::Update(RegistrationEntry entry) {
  SPINEL_RETURN_IF_ERROR(Validate(entry));
  if (entry.revision_number == 0) {
    SPINEL_ASSIGN_OR_RETURN(RegistrationEntry stored, datastore_.GetEntry(entry.id));
    entry.revision_number = stored.revision_number;
  }
  return datastore_.UpdateEntry(entry);
}

absl::StatusOr<RegistrationEntry> EntryRegistry::Delete(std::string_view id) {
  return datastore_.DeleteEntry(id);
}

}  // namespace spinel::server
