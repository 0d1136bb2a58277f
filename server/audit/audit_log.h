// AuditLog: how the server writes its own events to the hash-chained audit log (the datastore
// assigns sequence numbers and links the chain). It builds events with the time from the
// clock, the zone name resolved from the zones in force, and details as compact JSON, and
// appends them; Record and RecordAll return the datastore's error so callers can refuse to
// hand out what they could not audit.
//
// Event kinds the server records (agents may not report these, see IsServerEventKind):
//   x509_svid.issued   an X509-SVID signed for an agent (details: entry_id, serial,
//                      expires_at, selectors) or minted by an operator (details: serial,
//                      expires_at, minted_by_operator)
//   jwt_svid.issued    a JWT-SVID minted (details: entry_id or minted_by_operator, audience,
//                      expires_at; never the token)
//   wit_svid.issued    a WIT-SVID minted for an agent's entry (details: entry_id, expires_at,
//                      cnf_jkt: the RFC 7638 thumbprint of the bound key; never the token)
//   wit_svid.refused   the agent API refused a WIT-SVID: an entry the agent may not have, or a
//                      key that is not a valid public cnf JWK (actor the agent; details:
//                      entry_id)
//   approval.requested / approval.approved / approval.denied / approval.used /
//   approval.refused   step-up approval steps (details: approval id, resource, action)
//   audit.dropped      an agent reported events it had to drop (details: dropped)
//   agent.attestation_refused  node attestation refused: bad, used or expired join token,
//                      failed x509pop, banned agent (outcome "refused", reason the refusal;
//                      subject the agent ID when known; details: method, peer; never the token)
//   x509_svid.refused  the agent API refused to sign: a CSR for an entry the agent may not
//                      have or naming another SPIFFE ID (actor the agent; details: entry_id,
//                      csr_uris), or a caller whose agent SVID was refused, e.g. evicted or
//                      banned (actor "unauthenticated"; details: presented_id, the unverified
//                      URI SAN of the certificate it presented)
//   federation.created / federation.updated / federation.deleted  an operator changed a
//                      federation relationship (subject spiffe://<foreign trust domain>;
//                      details: URL, profile, endpoint SPIFFE ID)
// Actors: an agent's SPIFFE ID, "operator:<user>" for the admin API, or "server".
//
// Thread-safe: holds only references; the AuditStore serializes appends.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/spiffe_id.h"
#include "server/datastore/audit_store.h"
#include "server/issuance/issuer.h"
#include "server/zones/zone_state.h"

namespace spinel::server {

inline constexpr char kServerActor[] = "server";

// True for the kinds above: the server's own record, which an agent may not report.
bool IsServerEventKind(std::string_view kind);

inline constexpr char kUnauthenticatedActor[] = "unauthenticated";

// Lower-case hex of the serial number of a DER certificate, the same text as
// common::Certificate::SerialHex, read without building an OpenSSL object (cheap enough for
// every issuance). InvalidArgument when `der` is not a certificate.
absl::StatusOr<std::string> SerialHexOfDer(std::string_view der);

class AuditLog {
 public:
  AuditLog(AuditStore& store, const ZoneState& zones, const common::Clock& clock)
      : store_(store), zones_(zones), clock_(clock) {}

  // An event at the clock's now. Fields left empty stay empty.
  AuditEvent Event(std::string kind, std::string actor, std::string zone, std::string subject,
                   std::string outcome, std::string reason, const nlohmann::json& details) const;
  // An event about workload `subject`, its zone the name of the zone of its trust domain (the
  // trust domain name when no zone has it).
  AuditEvent SubjectEvent(std::string kind, std::string actor, const common::SpiffeId& subject,
                          std::string outcome, std::string reason,
                          const nlohmann::json& details) const;

  // Appends one event.
  absl::Status Record(const AuditEvent& event);
  // Appends `events` in one transaction (all or none).
  absl::Status RecordAll(const std::vector<AuditEvent>& events);

  // The zone name of `id`'s trust domain, or the trust domain name.
  std::string ZoneNameOf(const common::SpiffeId& id) const;

 private:
  AuditStore& store_;
  const ZoneState& zones_;
  const common::Clock& clock_;
};

// x509_svid.issued: `issued` signed for `agent` for its entry `entry` (details: entry_id,
// parent_id, serial, expires_at, and the entry selectors that earned it).
AuditEvent X509IssuedEvent(const AuditLog& log, const AttestedAgent& agent,
                           const RegistrationEntry& entry, const IssuedX509Svid& issued);
// x509_svid.issued: minted by an operator through the admin API (`actor` "operator:<user>").
AuditEvent OperatorX509IssuedEvent(const AuditLog& log, std::string actor,
                                   const common::SpiffeId& subject, const IssuedX509Svid& issued);
// jwt_svid.issued for `subject`; `entry_id` "" when minted by an operator.
AuditEvent JwtIssuedEvent(const AuditLog& log, std::string actor, const common::SpiffeId& subject,
                          const std::vector<std::string>& audience, common::TimePoint expires_at,
                          const std::string& entry_id);

// wit_svid.issued by `agent_id` for `entry`; `key_thumbprint` the bound key's RFC 7638
// thumbprint.
AuditEvent WitIssuedEvent(const AuditLog& log, const std::string& agent_id,
                          const RegistrationEntry& entry, const IssuedWitSvid& issued,
                          const std::string& key_thumbprint);
// wit_svid.refused for `subject` ("" when unknown) and entry `entry_id`, with `why`.
AuditEvent WitRefusedEvent(const AuditLog& log, const std::string& agent_id,
                           const std::string& subject, const absl::Status& why,
                           const std::string& entry_id);

// delegation.exchanged by `agent_id` for entry `entry_id`: the token's user, chain, audience,
// jti and expiry (never the token); delegation.refused with `why`, its subject the entry's
// SPIFFE ID when the entry was authorized.
AuditEvent DelegationExchangedEvent(const AuditLog& log, const std::string& agent_id,
                                    const std::string& entry_id,
                                    const common::DelegationClaims& claims,
                                    const IssuedDelegationToken& issued);
AuditEvent DelegationRefusedEvent(const AuditLog& log, const std::string& agent_id,
                                  const std::string& entry_id,
                                  const std::optional<common::SpiffeId>& workload,
                                  const absl::Status& why);

// agent.attestation_refused: attestation by `method` from `peer` refused with `why`;
// `agent_id` "" when the refusal came before the agent was known.
AuditEvent AttestationRefusedEvent(const AuditLog& log, const std::string& method,
                                   const std::string& agent_id, const std::string& peer,
                                   const absl::Status& why);
// x509_svid.refused by `actor` for `subject` ("" when unknown) with `why`, and `details`.
AuditEvent X509RefusedEvent(const AuditLog& log, std::string actor, const std::string& subject,
                            const absl::Status& why, const nlohmann::json& details);

}  // namespace spinel::server
