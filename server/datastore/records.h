// Validation and storage encoding of datastore records (types.h): the rules the SQL store
// (sql_store.h) applies before any SQL runs, so that every engine accepts and refuses exactly
// the same input, and the encodings of the values it stores as text.
//
// All functions are pure (NewEntryId aside, which reads the OpenSSL RNG) and thread-safe.
// Validation errors are InvalidArgument naming the record and field; decoding errors of
// stored data are DataLoss.
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
#include "server/datastore/types.h"

namespace spinel::server {

inline constexpr size_t kMaxEntryIdLength = 128;
inline constexpr size_t kMaxHintLength = 1024;
inline constexpr size_t kMaxAuditFieldLength = 4096;
inline constexpr size_t kMaxAuditDetailsLength = 64 * 1024;

// Valid UTF-8 (no overlong forms or surrogates) without control characters (but for line
// breaks and tabs when `allow_breaks`): text that every engine stores unchanged.
bool IsCleanText(std::string_view s, bool allow_breaks);

// A random UUID (version 4), e.g. "0b9f6c1e-2d4a-4f7e-9a51-3c2e8d7f1a60".
absl::StatusOr<std::string> NewEntryId();

// The rules every stored entry follows, checked in this one place (the server's registry adds
// only its policy: zones, TTL caps, parents, placement). Checks `entry` and returns it
// normalized: selectors sorted and de-duplicated, zone filled in from the SPIFFE ID's trust
// domain (a zone that is set must be that trust domain's name). Refused (InvalidArgument
// naming the entry and the field): an id that is not 1..128 characters of [A-Za-z0-9._-]
// (it may be empty: CreateEntry assigns one), a missing SPIFFE ID or parent ID, no selectors
// or a malformed one, a negative TTL, a hint longer than 1024 bytes or not clean UTF-8
// without control characters, a DNS name common::CheckDnsName refuses.
absl::StatusOr<RegistrationEntry> NormalizeEntry(const RegistrationEntry& entry);

// Checks an agent for storing and returns it with normalized selectors.
absl::StatusOr<AttestedAgent> NormalizeAgent(const AttestedAgent& agent);

// Checks a bundle for storing: a trust domain and a JSON object.
absl::Status ValidateBundle(const BundleRecord& bundle);

// Checks the caller-supplied fields of an audit event: `kind` is required; actor, zone,
// subject, kind, outcome and reason are at most 4096 bytes of UTF-8 without control
// characters; details is at most 64 KiB of UTF-8 (line breaks and tabs allowed). The
// delegation: user_issuer and user as the short fields; actor_chain at most
// common::kMaxDelegationChain entries of 1 to 4096 such bytes; an issuer or chain without a
// user is refused.
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

// "entry", "agent", "bundle", "federation", "zones" and back.
std::string_view ChangeKindName(ChangeKind kind);
absl::StatusOr<ChangeKind> ParseChangeKind(std::string_view name);

// Stored times of audit events (and approvals) are Unix milliseconds.
int64_t UnixMillis(common::TimePoint t);
common::TimePoint FromUnixMillis(int64_t ms);
// Keeps stored and returned times identical: what a caller gets back equals what a Get reads.
inline common::TimePoint TruncateToMillis(common::TimePoint t) {
  return FromUnixMillis(UnixMillis(t));
}

}  // namespace spinel::server
