// The audit log as a hash chain. Every issuance, decision and approval step is an AuditEvent;
// each event carries the hash of the one before it, so editing, removing, inserting or
// reordering stored events is detected by recomputing the chain (VerifyChain).
//
// Canonical form (what is hashed), version 1: the fields below in this order, each written as
// "<decimal byte length>:<bytes>," (a netstring, unambiguous for any bytes):
//   "spinel-audit-v1", sequence (decimal), time (Unix milliseconds, decimal), actor, zone,
//   subject, kind, outcome, reason, details
// Version 2, used exactly when an event records a delegation (user_issuer, user or actor_chain
// non-empty): "spinel-audit-v2", the same ten fields, then user_issuer, user, and the actor
// chain as one netstring whose bytes are the netstrings of the actors in order (current actor
// first). Events without a delegation keep the version 1 form, so hashes of records written
// before delegation existed still verify, and a v1 record cannot be re-read as a v2 one.
// hash = lower-case hex SHA-256( prev_hash || canonical ), where prev_hash is the previous
// event's hash, or kGenesisHash (64 '0') for the first event, which has sequence 1.
//
// Time enters the hash at millisecond precision, so storage must keep at least milliseconds.
// `details` is opaque text (typically JSON written by the caller) and is hashed byte for byte:
// store it exactly as given. Removing the newest events leaves a valid shorter chain; detect
// that by comparing the returned ChainHead with one kept elsewhere (e.g. the last hash the
// server reported). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"

namespace spinel::zones {

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct AuditEvent {
  uint64_t sequence = 0;  // 1, 2, 3, ... with no gaps
  common::TimePoint time{};
  std::string actor;    // who acted: agent or operator SPIFFE ID / user
  std::string zone;     // zone concerned, "" when none
  std::string subject;  // workload SPIFFE ID concerned, "" when none
  std::string kind;     // what happened: "x509_svid.issued", "authorize", "approval.approved"
  std::string outcome;  // "ALLOW", "DENY", "ok", "error", ...
  std::string reason;
  std::string details;  // opaque, usually JSON; "" when none
  // On whose behalf the subject acted (all empty: nobody): the user's issuer and subject, and
  // the full actor chain of SPIFFE IDs, current actor first.
  std::string user_issuer;
  std::string user;
  std::vector<std::string> actor_chain;
  std::string prev_hash;
  std::string hash;
};

// The canonical bytes of `event` (without prev_hash and hash).
std::string CanonicalEvent(const AuditEvent& event);

// SHA-256 hex of prev_hash || CanonicalEvent(event).
absl::StatusOr<std::string> ComputeEventHash(const AuditEvent& event);

// Sets event.prev_hash = prev_hash and fills event.hash. InvalidArgument when prev_hash is not
// 64 lower-case hex digits.
absl::Status Chain(AuditEvent& event, std::string_view prev_hash);

// Links `event` after `previous` (nullptr: `event` starts the chain): sets sequence, prev_hash
// and hash.
absl::Status ChainAfter(const AuditEvent* previous, AuditEvent& event);

struct ChainHead {
  uint64_t sequence = 0;                         // last sequence number; 0 for an empty chain
  std::string hash = std::string(kGenesisHash);  // last hash
};

// Verifies a complete chain given in stored order (starting at sequence 1). On success returns
// the head; otherwise DataLoss naming the first event (by sequence number) at which the chain
// breaks: an event whose content no longer matches its hash ("altered"), a missing sequence
// number ("removed"), a sequence number out of order ("reordered"), or a prev_hash that does
// not link to the event before it.
absl::StatusOr<ChainHead> VerifyChain(std::span<const AuditEvent> events);

}  // namespace spinel::zones
