#include "trust-zones/audit_chain.h"

#include <chrono>

#include "common/sha256.h"
#include "common/strings.h"

namespace spinel::zones {
namespace {

using common::IsSha256Hex;
using common::Sha256Hex;
using common::StrAppend;
using common::StrCat;

void AppendField(std::string& out, std::string_view field) {
  StrAppend(&out, field.size(), ":", field, ",");
}

absl::Status Broken(uint64_t sequence, std::string_view problem) {
  return absl::DataLossError(StrCat("audit chain broken at event ", sequence, ": ", problem));
}

// The position of sequence number `sequence` at or after `from`, or events.size().
size_t FindSequence(std::span<const AuditEvent> events, size_t from, uint64_t sequence) {
  for (size_t i = from; i < events.size(); ++i) {
    if (events[i].sequence == sequence) return i;
  }
  return events.size();
}

// Checks that events[i] carries the sequence number that follows `expected - 1`.
absl::Status CheckSequence(std::span<const AuditEvent> events, size_t i, uint64_t expected) {
  const uint64_t got = events[i].sequence;
  if (got == expected) return absl::OkStatus();
  if (FindSequence(events, i + 1, expected) < events.size()) {
    return Broken(expected, StrCat("reordered: event ", got, " is stored before it"));
  }
  if (got > expected && i + 1 < events.size() && events[i + 1].sequence == expected + 1) {
    return Broken(expected, StrCat("altered: its sequence number was changed to ", got));
  }
  if (got > expected) {
    return Broken(expected, got == expected + 1
                                ? StrCat("removed (the next stored event is ", got, ")")
                                : StrCat("removed, with the events up to ", got - 1));
  }
  return Broken(got, StrCat("reordered or duplicated: it is stored after event ", expected - 1));
}

}  // namespace

std::string CanonicalEvent(const AuditEvent& event) {
  const int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(event.time.time_since_epoch()).count();
  const bool delegated =
      !event.user_issuer.empty() || !event.user.empty() || !event.actor_chain.empty();
  std::string out;
  out.reserve(128 + event.reason.size() + event.details.size());
  AppendField(out, delegated ? "spinel-audit-v2" : "spinel-audit-v1");
  AppendField(out, std::to_string(event.sequence));
  AppendField(out, std::to_string(ms));
  for (const std::string* field : {&event.actor, &event.zone, &event.subject, &event.kind,
                                   &event.outcome, &event.reason, &event.details}) {
    AppendField(out, *field);
  }
  if (!delegated) return out;
  AppendField(out, event.user_issuer);
  AppendField(out, event.user);
  std::string chain;
  for (const std::string& actor : event.actor_chain) AppendField(chain, actor);
  AppendField(out, chain);
  return out;
}

absl::StatusOr<std::string> ComputeEventHash(const AuditEvent& event) {
  return Sha256Hex(StrCat(event.prev_hash, CanonicalEvent(event)));
}

absl::Status Chain(AuditEvent& event, std::string_view prev_hash) {
  if (!IsSha256Hex(prev_hash)) {
    return absl::InvalidArgumentError("prev_hash must be 64 lower-case hex digits");
  }
  event.prev_hash = std::string(prev_hash);
  absl::StatusOr<std::string> hash = ComputeEventHash(event);
  if (!hash.ok()) return hash.status();
  event.hash = *std::move(hash);
  return absl::OkStatus();
}

absl::Status ChainAfter(const AuditEvent* previous, AuditEvent& event) {
  event.sequence = previous == nullptr ? 1 : previous->sequence + 1;
  return Chain(event, previous == nullptr ? kGenesisHash : std::string_view(previous->hash));
}

absl::StatusOr<ChainHead> VerifyChain(std::span<const AuditEvent> events) {
  ChainHead head;
  for (size_t i = 0; i < events.size(); ++i) {
    const AuditEvent& event = events[i];
    absl::Status status = CheckSequence(events, i, head.sequence + 1);
    if (!status.ok()) return status;
    absl::StatusOr<std::string> hash = ComputeEventHash(event);
    if (!hash.ok()) return hash.status();
    if (*hash != event.hash) {
      return Broken(event.sequence, "altered: its content does not match its hash");
    }
    if (event.prev_hash != head.hash) {
      return Broken(event.sequence,
                    StrCat("its prev_hash does not match the hash of event ", head.sequence,
                           " (an event was removed, inserted or rewritten)"));
    }
    head = {event.sequence, event.hash};
  }
  return head;
}

}  // namespace spinel::zones
