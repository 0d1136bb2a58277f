#include "server/api/proto_convert.h"

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {

spinel::v1::Entry EntryToProto(const RegistrationEntry& entry) {
  spinel::v1::Entry proto;
  proto.set_id(entry.id);
  proto.set_spiffe_id(entry.spiffe_id.ToString());
  proto.set_parent_id(entry.parent_id.ToString());
  for (const common::Selector& s : entry.selectors) {
    auto* selector = proto.add_selectors();
    selector->set_type(s.type);
    selector->set_value(s.value);
  }
  proto.set_zone(entry.zone);
  proto.set_x509_svid_ttl_seconds(entry.x509_svid_ttl);
  proto.set_jwt_svid_ttl_seconds(entry.jwt_svid_ttl);
  for (const std::string& dns : entry.dns_names) proto.add_dns_names(dns);
  proto.set_hint(entry.hint);
  proto.set_admin(entry.admin);
  proto.set_expires_at(entry.expires_at.value_or(0));
  proto.set_revision_number(entry.revision_number);
  proto.set_created_at(entry.created_at);
  proto.set_updated_at(entry.updated_at);
  return proto;
}

spinel::v1::Agent AgentToProto(const AttestedAgent& agent) {
  spinel::v1::Agent proto;
  proto.set_spiffe_id(agent.spiffe_id.ToString());
  proto.set_attestation_type(agent.attestation_type);
  proto.set_svid_serial(agent.serial_number);
  proto.set_svid_expires_at(agent.svid_expires_at);
  for (const common::Selector& s : agent.selectors) {
    auto* selector = proto.add_selectors();
    selector->set_type(s.type);
    selector->set_value(s.value);
  }
  proto.set_banned(agent.banned);
  proto.set_created_at(agent.created_at);
  proto.set_updated_at(agent.updated_at);
  return proto;
}

absl::StatusOr<spinel::v1::Bundle> BundleToProto(const common::Bundle& bundle) {
  SPINEL_ASSIGN_OR_RETURN(std::string json, bundle.ToJson());
  spinel::v1::Bundle proto;
  proto.set_trust_domain(bundle.trust_domain.name());
  proto.set_jwks(std::move(json));
  proto.set_sequence(bundle.sequence.value_or(0));
  return proto;
}

absl::StatusOr<common::Bundle> BundleFromProto(const spinel::v1::Bundle& proto) {
  SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td, common::TrustDomain::Parse(proto.trust_domain()));
  return common::Bundle::Parse(td, proto.jwks());
}

}  // namespace spinel::server
