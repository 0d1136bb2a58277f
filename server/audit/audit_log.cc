#include "server/audit/audit_log.h"

#include <openssl/asn1.h>

#include <array>

#include "common/der_reader.h"
#include "common/status_macros.h"

namespace spinel::server {

bool IsServerEventKind(std::string_view kind) {
  constexpr std::array<std::string_view, 7> kPrefixes = {
      "x509_svid.", "jwt_svid.", "wit_svid.", "approval.", "audit.", "agent.", "federation."};
  for (std::string_view prefix : kPrefixes) {
    if (kind.substr(0, prefix.size()) == prefix) return true;
  }
  return false;
}

absl::StatusOr<std::string> SerialHexOfDer(std::string_view der) {
  common::DerReader outer(der);
  SPINEL_ASSIGN_OR_RETURN(common::DerElement cert, outer.Expect(V_ASN1_SEQUENCE, "certificate"));
  common::DerReader cert_fields(cert.content);
  SPINEL_ASSIGN_OR_RETURN(common::DerElement tbs,
                          cert_fields.Expect(V_ASN1_SEQUENCE, "tbsCertificate"));
  common::DerReader tbs_fields(tbs.content);
  SPINEL_ASSIGN_OR_RETURN(common::DerElement first, tbs_fields.Next("certificate version"));
  common::DerElement serial = first;
  if (first.tag_class == V_ASN1_CONTEXT_SPECIFIC && first.tag == 0) {  // [0] version
    SPINEL_ASSIGN_OR_RETURN(serial, tbs_fields.Expect(V_ASN1_INTEGER, "certificate serial"));
  } else if (first.tag_class != V_ASN1_UNIVERSAL || first.tag != V_ASN1_INTEGER) {
    return absl::InvalidArgumentError("certificate serial: expected an INTEGER");
  }
  std::string_view bytes = serial.content;
  // OpenSSL keeps the magnitude: without the sign octet DER adds before a high bit.
  if (bytes.size() > 1 && bytes.front() == '\0') bytes.remove_prefix(1);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

AuditEvent AuditLog::Event(std::string kind, std::string actor, std::string zone,
                           std::string subject, std::string outcome, std::string reason,
                           const nlohmann::json& details) const {
  AuditEvent event;
  event.time = clock_.Now();
  event.kind = std::move(kind);
  event.actor = std::move(actor);
  event.zone = std::move(zone);
  event.subject = std::move(subject);
  event.outcome = std::move(outcome);
  event.reason = std::move(reason);
  // Replace rather than throw on invalid UTF-8 (request text): the event is still recorded.
  if (!details.is_null()) {
    event.details = details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return event;
}

AuditEvent AuditLog::SubjectEvent(std::string kind, std::string actor,
                                  const common::SpiffeId& subject, std::string outcome,
                                  std::string reason, const nlohmann::json& details) const {
  return Event(std::move(kind), std::move(actor), ZoneNameOf(subject), subject.ToString(),
               std::move(outcome), std::move(reason), details);
}

std::string AuditLog::ZoneNameOf(const common::SpiffeId& id) const {
  std::shared_ptr<const zones::ZoneSet> set = zones_.Get();
  const zones::Zone* zone = set->ZoneOf(id);
  return zone != nullptr ? zone->name : id.trust_domain().name();
}

absl::Status AuditLog::Record(const AuditEvent& event) {
  return store_.AppendAuditEvent(event).status();
}

absl::Status AuditLog::RecordAll(const std::vector<AuditEvent>& events) {
  return store_.AppendAuditEvents(events).status();
}

namespace {

// The leaf's serial, or "" when the leaf cannot be read (never expected: the issuer built it).
std::string LeafSerial(const IssuedX509Svid& issued) {
  if (issued.chain_der.empty()) return "";
  absl::StatusOr<std::string> serial = SerialHexOfDer(issued.chain_der.front());
  return serial.ok() ? *serial : "";
}

}  // namespace

AuditEvent X509IssuedEvent(const AuditLog& log, const AttestedAgent& agent,
                           const RegistrationEntry& entry, const IssuedX509Svid& issued) {
  nlohmann::json selectors = nlohmann::json::array();
  for (const common::Selector& selector : entry.selectors) selectors.push_back(selector.ToString());
  nlohmann::json details = {{"entry_id", entry.id},
                            {"parent_id", entry.parent_id.ToString()},
                            {"serial", LeafSerial(issued)},
                            {"expires_at", common::ToUnixSeconds(issued.expires_at)},
                            {"selectors", std::move(selectors)}};
  return log.SubjectEvent("x509_svid.issued", agent.spiffe_id.ToString(), entry.spiffe_id, "ok", "",
                          details);
}

AuditEvent OperatorX509IssuedEvent(const AuditLog& log, std::string actor,
                                   const common::SpiffeId& subject, const IssuedX509Svid& issued) {
  nlohmann::json details = {{"minted_by_operator", true},
                            {"serial", LeafSerial(issued)},
                            {"expires_at", common::ToUnixSeconds(issued.expires_at)}};
  return log.SubjectEvent("x509_svid.issued", std::move(actor), subject, "ok", "", details);
}

AuditEvent JwtIssuedEvent(const AuditLog& log, std::string actor, const common::SpiffeId& subject,
                          const std::vector<std::string>& audience, common::TimePoint expires_at,
                          const std::string& entry_id) {
  nlohmann::json details = {{"audience", audience},
                            {"expires_at", common::ToUnixSeconds(expires_at)}};
  if (entry_id.empty()) {
    details["minted_by_operator"] = true;
  } else {
    details["entry_id"] = entry_id;
  }
  return log.SubjectEvent("jwt_svid.issued", std::move(actor), subject, "ok", "", details);
}

AuditEvent WitIssuedEvent(const AuditLog& log, const std::string& agent_id,
                          const RegistrationEntry& entry, const IssuedWitSvid& issued,
                          const std::string& key_thumbprint) {
  return log.SubjectEvent("wit_svid.issued", agent_id, entry.spiffe_id, "ok", "",
                          {{"entry_id", entry.id},
                           {"expires_at", common::ToUnixSeconds(issued.expires_at)},
                           {"cnf_jkt", key_thumbprint}});
}

AuditEvent WitRefusedEvent(const AuditLog& log, const std::string& agent_id,
                           const std::string& subject, const absl::Status& why,
                           const std::string& entry_id) {
  nlohmann::json details = {{"entry_id", entry_id}};
  absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(subject);
  if (id.ok()) {
    return log.SubjectEvent("wit_svid.refused", agent_id, *id, "refused",
                            std::string(why.message()), details);
  }
  return log.Event("wit_svid.refused", agent_id, "", subject, "refused", std::string(why.message()),
                   details);
}

namespace {

AuditEvent WithDelegation(AuditEvent event, const common::DelegationClaims& claims) {
  event.user_issuer = claims.user.issuer;
  event.user = claims.user.subject;
  for (const common::SpiffeId& actor : claims.actors) event.actor_chain.push_back(actor.ToString());
  return event;
}

}  // namespace

AuditEvent DelegationExchangedEvent(const AuditLog& log, const std::string& agent_id,
                                    const std::string& entry_id,
                                    const common::DelegationClaims& claims,
                                    const IssuedDelegationToken& issued) {
  return WithDelegation(
      log.SubjectEvent("delegation.exchanged", agent_id, claims.actors.front(), "ok", "",
                       {{"entry_id", entry_id},
                        {"audience", claims.audience},
                        {"jti", issued.jti},
                        {"expires_at", common::ToUnixSeconds(issued.expires_at)}}),
      claims);
}

AuditEvent DelegationRefusedEvent(const AuditLog& log, const std::string& agent_id,
                                  const std::string& entry_id,
                                  const std::optional<common::SpiffeId>& workload,
                                  const absl::Status& why) {
  const nlohmann::json details = {{"entry_id", entry_id}};
  if (!workload) {
    return log.Event("delegation.refused", agent_id, "", "", "refused", std::string(why.message()),
                     details);
  }
  return log.SubjectEvent("delegation.refused", agent_id, *workload, "refused",
                          std::string(why.message()), details);
}

AuditEvent AttestationRefusedEvent(const AuditLog& log, const std::string& method,
                                   const std::string& agent_id, const std::string& peer,
                                   const absl::Status& why) {
  return log.Event("agent.attestation_refused", kServerActor, "", agent_id, "refused",
                   std::string(why.message()), {{"method", method}, {"peer", peer}});
}

AuditEvent X509RefusedEvent(const AuditLog& log, std::string actor, const std::string& subject,
                            const absl::Status& why, const nlohmann::json& details) {
  absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(subject);
  if (id.ok()) {
    return log.SubjectEvent("x509_svid.refused", std::move(actor), *id, "refused",
                            std::string(why.message()), details);
  }
  return log.Event("x509_svid.refused", std::move(actor), "", subject, "refused",
                   std::string(why.message()), details);
}

}  // namespace spinel::server
