// Validation and storage encoding of datastore records (types.h), shared by every Datastore
// implementation so that they accept and refuse exactly the same input.
//
// All functions are pure (NewEntryId aside, which reads the OpenSSL RNG) and thread-safe.
// Validation errors are InvalidArgument naming the record and field; decoding errors of
// stored data are DataLoss.
//
// The Read* templates decode one stored row for either engine. `Row` is a SQLite Statement
// (sqlite_db.h) or a PostgreSQL PgRow (postgres_conn.h); both offer, columns from 0:
//   std::string Text(int)  ("" for NULL)     int64_t Int(int)  (0 for NULL)
//   bool Bool(int)                           bool IsNull(int)
// Columns are in the order of the matching k*Columns list, which every SELECT and INSERT of
// that table names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/selector.h"
#include "common/spiffe_id.h"
#include "common/status_macros.h"
#include "server/datastore/types.h"

namespace spinel::server {

inline constexpr size_t kMaxEntryIdLength = 128;
inline constexpr size_t kMaxHintLength = 1024;
inline constexpr size_t kMaxDnsNameLength = 253;
inline constexpr size_t kMaxAuditFieldLength = 4096;
inline constexpr size_t kMaxAuditDetailsLength = 64 * 1024;

// A random UUID (version 4), e.g. "0b9f6c1e-2d4a-4f7e-9a51-3c2e8d7f1a60".
absl::StatusOr<std::string> NewEntryId();

// Checks `entry` for storing and returns it normalized: selectors sorted and de-duplicated,
// zone filled in from the SPIFFE ID's trust domain. The id may be empty (CreateEntry assigns
// one); when set it is 1..128 characters of [A-Za-z0-9._-].
absl::StatusOr<RegistrationEntry> NormalizeEntry(const RegistrationEntry& entry);

// Checks an agent for storing and returns it with normalized selectors.
absl::StatusOr<AttestedAgent> NormalizeAgent(const AttestedAgent& agent);

// Checks a bundle for storing: a trust domain and a JSON object.
absl::Status ValidateBundle(const BundleRecord& bundle);

// Checks the caller-supplied fields of an audit event: `kind` is required; actor, zone,
// subject, kind, outcome and reason are at most 4096 bytes of UTF-8 without control
// characters; details is at most 64 KiB of UTF-8 (line breaks and tabs allowed).
absl::Status ValidateAuditEvent(const AuditEvent& event);

// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

// What is stored for a join token: Sha256Hex(token).
inline std::string JoinTokenHash(std::string_view token) { return Sha256Hex(token); }

// Parses a stored SPIFFE ID; DataLoss naming `owner` (e.g. `entry "abc"`) when malformed.
absl::StatusOr<common::SpiffeId> DecodeSpiffeId(std::string_view text, std::string_view owner);

// JSON array text of "type:value" strings, and back. `owner` names the record in errors,
// e.g. `entry "abc"`.
std::string EncodeSelectors(const common::SelectorSet& selectors);
absl::StatusOr<common::SelectorSet> DecodeSelectors(std::string_view json, std::string_view owner);

// JSON array text of strings, and back.
std::string EncodeStrings(const std::vector<std::string>& strings);
absl::StatusOr<std::vector<std::string>> DecodeStrings(std::string_view json,
                                                       std::string_view owner);

// "entry", "agent", "bundle" and back.
std::string_view ChangeKindName(ChangeKind kind);
absl::StatusOr<ChangeKind> ParseChangeKind(std::string_view name);

// --- Stored rows --------------------------------------------------------------------------

inline constexpr char kAgentColumns[] =
    "spiffe_id, attestation_type, serial_number, svid_expires_at, selectors, banned, "
    "created_at, updated_at";
inline constexpr char kJoinTokenColumns[] = "token_hash, agent_id, expires_at, used_at, created_at";
inline constexpr char kBundleColumns[] = "trust_domain, bundle_json, sequence, updated_at";
inline constexpr char kAuditColumns[] =
    "sequence, time_ms, actor, zone, subject, kind, outcome, reason, details, prev_hash, hash";
inline constexpr char kChangeColumns[] = "revision, kind, object_id, deleted";

// Stored times of audit events (and approvals) are Unix milliseconds.
int64_t UnixMillis(common::TimePoint t);
common::TimePoint FromUnixMillis(int64_t ms);
// Keeps stored and returned times identical: what a caller gets back equals what a Get reads.
inline common::TimePoint TruncateToMillis(common::TimePoint t) {
  return FromUnixMillis(UnixMillis(t));
}

// `agent "spiffe://..."`, and NotFound saying that agent is not stored.
std::string AgentName(const common::SpiffeId& id);
absl::Status AgentNotFound(const common::SpiffeId& id);
// `join token for agent "spiffe://..."`: names the agent the token is for, never the token.
std::string JoinTokenName(const JoinToken& token);
// NotFound naming the bundle's trust domain.
absl::Status BundleNotFound(const common::TrustDomain& td);
// SetBundle's sequence guard: FailedPrecondition when `stored` is at a newer sequence than
// `next`, which then does not replace it.
absl::Status CheckBundleSequence(const BundleRecord& stored, const BundleRecord& next);
// Parses a stored bundle's trust domain; DataLoss naming it when malformed.
absl::StatusOr<common::TrustDomain> DecodeBundleTrustDomain(std::string_view name);

// A row of kAgentColumns.
template <typename Row>
absl::StatusOr<AttestedAgent> ReadAgent(const Row& row) {
  AttestedAgent a;
  SPINEL_ASSIGN_OR_RETURN(a.spiffe_id, DecodeSpiffeId(row.Text(0), "agent"));
  a.attestation_type = row.Text(1);
  a.serial_number = row.Text(2);
  a.svid_expires_at = row.Int(3);
  SPINEL_ASSIGN_OR_RETURN(a.selectors, DecodeSelectors(row.Text(4), AgentName(a.spiffe_id)));
  a.banned = row.Bool(5);
  a.created_at = row.Int(6);
  a.updated_at = row.Int(7);
  return a;
}

// A row of kJoinTokenColumns.
template <typename Row>
absl::StatusOr<JoinToken> ReadJoinToken(const Row& row) {
  JoinToken t;
  t.token_hash = row.Text(0);
  SPINEL_ASSIGN_OR_RETURN(t.agent_id, DecodeSpiffeId(row.Text(1), "join token"));
  t.expires_at = row.Int(2);
  if (!row.IsNull(3)) t.used_at = row.Int(3);
  t.created_at = row.Int(4);
  return t;
}

// A row of kBundleColumns.
template <typename Row>
absl::StatusOr<BundleRecord> ReadBundle(const Row& row) {
  SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td, DecodeBundleTrustDomain(row.Text(0)));
  return BundleRecord{std::move(td), row.Text(1), row.Int(2), row.Int(3)};
}

// A row of kAuditColumns.
template <typename Row>
AuditEvent ReadAuditEvent(const Row& row) {
  AuditEvent e;
  e.sequence = static_cast<uint64_t>(row.Int(0));
  e.time = FromUnixMillis(row.Int(1));
  e.actor = row.Text(2);
  e.zone = row.Text(3);
  e.subject = row.Text(4);
  e.kind = row.Text(5);
  e.outcome = row.Text(6);
  e.reason = row.Text(7);
  e.details = row.Text(8);
  e.prev_hash = row.Text(9);
  e.hash = row.Text(10);
  return e;
}

// A row of kChangeColumns.
template <typename Row>
absl::StatusOr<Change> ReadChange(const Row& row) {
  SPINEL_ASSIGN_OR_RETURN(ChangeKind kind, ParseChangeKind(row.Text(1)));
  return Change{row.Int(0), kind, row.Text(2), row.Bool(3)};
}

}  // namespace spinel::server
