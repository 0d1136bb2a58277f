// The records the server's datastore keeps (see datastore.h for the operations on them).
//
// Plain value types, cheap to copy, no invariants enforced by the types themselves: the
// datastore validates what it is given (records.h) and fills the fields marked "set by the
// datastore". All times are Unix seconds (common::ToUnixSeconds); all TTLs are seconds.
// Every field has a default member initializer, so designated initializers may name only
// some fields (e.g. `AuditFilter{.zone = "inference"}`) without -Wmissing-field-initializers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/selector.h"
#include "common/spiffe_id.h"
#include "trust-zones/approval.h"
#include "trust-zones/audit_chain.h"
#include "trust-zones/rule.h"

namespace spinel::server {

// A registration entry: "a workload with these selectors, running under this parent, gets this
// SPIFFE ID". The parent is an agent ID or the ID of a node-alias entry.
struct RegistrationEntry {
  std::string id{};  // empty on create: the datastore assigns a random UUID
  common::SpiffeId spiffe_id{};
  common::SpiffeId parent_id{};
  common::SelectorSet selectors{};  // at least one; stored normalized (sorted, unique)
  std::string zone{};               // = spiffe_id's trust domain name; filled in when empty
  int64_t x509_svid_ttl = 0;        // 0: the zone default
  int64_t jwt_svid_ttl = 0;         // 0: the zone default
  std::vector<std::string> dns_names{};
  std::string hint{};
  bool admin = false;
  std::optional<int64_t> expires_at{};  // the entry itself expires; nullopt: never
  int64_t revision_number = 0;          // set by the datastore; +1 on every update
  int64_t created_at = 0;               // set by the datastore
  int64_t updated_at = 0;               // set by the datastore

  bool operator==(const RegistrationEntry&) const = default;
};

// Which entries ListEntries/CountEntries return; unset fields do not filter. Several set
// fields must all match.
struct EntryFilter {
  std::optional<common::SpiffeId> parent_id{};
  std::optional<common::SpiffeId> spiffe_id{};
  std::optional<std::string> zone{};
};

// Entries are listed in id order. page_size 0 lists everything; otherwise at most page_size
// entries after page_token (the next_page_token of the previous page, "" for the first).
struct PageRequest {
  int page_size = 0;
  std::string page_token{};
};

struct EntryPage {
  std::vector<RegistrationEntry> entries{};
  std::string next_page_token{};  // "" when this is the last page
};

// A node that attested and holds an agent SVID. Evicting an agent deletes this record (it
// must attest again); banning keeps it with banned = true so that it cannot.
struct AttestedAgent {
  common::SpiffeId spiffe_id{};
  std::string attestation_type{};  // "join_token", "x509pop"
  std::string serial_number{};     // hex serial of the agent's current SVID
  int64_t svid_expires_at = 0;
  common::SelectorSet selectors{};  // node selectors; stored normalized
  bool banned = false;              // changed only by SetAgentBanned
  int64_t created_at = 0;           // set by the datastore
  int64_t updated_at = 0;           // set by the datastore

  bool operator==(const AttestedAgent&) const = default;
};

struct AgentFilter {
  std::optional<std::string> attestation_type{};
  std::optional<bool> banned{};
};

// A join token as stored: only the SHA-256 of the token is kept, never the token itself.
struct JoinToken {
  std::string token_hash{};     // lower-case hex SHA-256 of the token (JoinTokenHash)
  common::SpiffeId agent_id{};  // the agent ID an attestation with this token produces
  int64_t expires_at = 0;
  std::optional<int64_t> used_at{};  // set once, by ConsumeJoinToken
  int64_t created_at = 0;

  bool operator==(const JoinToken&) const = default;
};

// A trust bundle (own zone or federated) in its SPIFFE JSON (JWKS) form.
struct BundleRecord {
  common::TrustDomain trust_domain{};
  std::string bundle_json{};  // must be a JSON object
  int64_t sequence = 0;       // spiffe_sequence; never goes backwards
  int64_t updated_at = 0;     // set by the datastore

  bool operator==(const BundleRecord&) const = default;
};

// When and how the last fetches of a federated bundle went (set by the federation refresher
// through RecordFederationRefresh; never by create/update).
struct FederationRefreshState {
  int64_t last_attempt_at = 0;       // 0: never attempted
  int64_t last_success_at = 0;       // 0: never succeeded
  int64_t next_refresh_at = 0;       // 0: as soon as possible
  std::string last_error{};          // "" after a success; never contains secrets
  int64_t consecutive_failures = 0;  // 0 after a success

  bool operator==(const FederationRefreshState&) const = default;
};

// A federation relationship with a foreign trust domain: where its SPIFFE bundle endpoint is
// and how that endpoint is authenticated. The foreign bundle itself is an ordinary
// BundleRecord of `trust_domain` in the bundles table (initial bundle, then every fetch).
struct FederationRelationship {
  common::TrustDomain trust_domain{};
  std::string bundle_endpoint_url{};  // https://host[:port][/path]
  std::string profile{};              // "https_web" or "https_spiffe"
  // https_spiffe: the SPIFFE ID the endpoint's X509-SVID must carry (it is verified against the
  // stored bundle of that ID's trust domain). Unset for https_web.
  std::optional<common::SpiffeId> endpoint_spiffe_id{};
  // https_web: PEM of the CAs that verify the endpoint's certificate; "" = the system roots.
  std::string web_ca_pem{};
  int64_t created_at = 0;  // set by the datastore
  int64_t updated_at = 0;  // set by the datastore
  FederationRefreshState refresh{};

  bool operator==(const FederationRelationship&) const = default;
};

// One server replica's own authorities for one trust domain (the control plane or a zone), as
// that replica publishes them. Several replicas on one database each sign with their own CAs
// and JWT keys; the bundle of a trust domain that agents, workloads and federated peers get is
// the union over the replicas' published bundles (merged; see server/bundles/bundle_merger.h).
struct ServerBundleRecord {
  std::string server_id{};  // stable replica id (config `server_id` or generated)
  common::TrustDomain trust_domain{};
  std::string bundle_json{};  // this replica's SPIFFE bundle (JWKS) of trust_domain
  int64_t sequence = 0;       // this replica's sequence for it; never goes backwards
  int64_t updated_at = 0;     // set by the datastore

  bool operator==(const ServerBundleRecord&) const = default;
};

// One event of the hash-chained audit log. The type, its canonical form and the chain are
// defined by the trust-zones library (trust-zones/audit_chain.h); the datastore assigns the
// sequence number and links the chain (prev_hash, hash) atomically when appending, and stores
// time with millisecond precision (what the hash covers).
using AuditEvent = zones::AuditEvent;

// Events are listed in sequence (append) order. limit 0 lists all; otherwise the first
// `limit` matching events, or with `newest` the last `limit` of them (still in sequence order).
struct AuditFilter {
  std::optional<std::string> zone{};
  std::optional<common::TimePoint> since{};  // time >= since
  std::optional<std::string> kind{};         // exact kind, e.g. "x509_svid.issued"
  std::optional<std::string> user{};         // exact user subject: events on behalf of this user
  uint64_t after_sequence = 0;               // sequence > after_sequence
  int limit = 0;
  bool newest = false;
};

// A step-up approval request as stored: the state machine of trust-zones/approval.h plus the
// request context it was asked with (the binding holds only its digest), kept for operators to
// read. Times are stored with millisecond precision.
struct ApprovalRecord {
  zones::ApprovalRequest request{};
  zones::RequestContext context{};
};

// Which approvals ListApprovals returns; unset fields do not filter. `state` is the state an
// operator sees (ApprovalRequest::StatusText at the datastore's now): "pending" and "approved"
// exclude expired requests, "expired" selects pending or approved ones past their expiry.
struct ApprovalFilter {
  std::optional<std::string> state{};  // pending|approved|denied|used|expired
  std::optional<std::string> zone{};
};

// CreateApproval's answer: the stored approval, and whether it was created now (false: an
// identical live request already existed and is returned instead).
struct CreatedApproval {
  ApprovalRecord approval{};
  bool created = false;
};

// What a change is about.
enum class ChangeKind {
  kEntry,       // object_id: the entry id
  kAgent,       // object_id: the agent's SPIFFE ID
  kBundle,      // object_id: the trust domain name (its bundle or a replica's published one)
  kFederation,  // object_id: the trust domain name of a federation relationship
  kZones,       // never stored: this replica's zones were reloaded (ChangeFeed::PublishLocal)
};

// The latest change of one entry, agent or bundle (ListChanges). Every committed write of an
// entry, agent, bundle or federation relationship gets the next revision of the
// datastore-wide change counter.
struct Change {
  int64_t revision = 0;
  ChangeKind kind = ChangeKind::kEntry;
  std::string object_id{};  // entry id, agent SPIFFE ID or trust domain name
  bool deleted = false;

  bool operator==(const Change&) const = default;
};

// One committed change, as the change feed delivers it (ListChangeEvents, SetChangeListener):
// what changed and, for an entry, the parents whose agents it concerns (the parent it had and
// the one it has: one ID for a create or delete, one or two for an update).
struct ChangeEvent {
  int64_t revision = 0;
  ChangeKind kind = ChangeKind::kEntry;
  std::string object_id{};
  bool deleted = false;
  std::vector<std::string> parent_ids{};  // SPIFFE IDs; entries only

  bool operator==(const ChangeEvent&) const = default;
};

}  // namespace spinel::server
