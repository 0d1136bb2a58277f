#include "server/api/approval_convert.h"

#include <chrono>

#include "common/strings.h"

namespace spinel::server {
namespace {

// Unix seconds, 0 for the epoch ("not yet").
int64_t SecondsOrZero(common::TimePoint t) {
  return t == common::TimePoint{} ? 0 : common::ToUnixSeconds(t);
}

}  // namespace

absl::Status CheckUnixMillis(std::string_view field, int64_t ms) {
  const int64_t max_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             common::TimePoint::max().time_since_epoch())
                             .count();
  if (ms < 0 || ms > max_ms) {
    return absl::InvalidArgumentError(
        common::StrCat(field, ": ", ms, " is not a Unix time in milliseconds (0 to ", max_ms, ")"));
  }
  return absl::OkStatus();
}

spinel::v1::Approval ApprovalToProto(const ApprovalRecord& approval, common::TimePoint now) {
  const zones::ApprovalRequest& r = approval.request;
  spinel::v1::Approval out;
  out.set_id(r.id);
  out.set_subject(r.binding.subject);
  out.set_resource(r.binding.resource);
  out.set_action(r.binding.action);
  out.set_context_digest(r.binding.context_digest);
  for (const auto& [key, value] : approval.context) (*out.mutable_context())[key] = value;
  out.set_requesting_agent(r.requesting_agent);
  out.set_zone(r.zone);
  out.set_rule_id(r.rule_id);
  out.set_created_at(SecondsOrZero(r.created_at));
  out.set_expires_at(SecondsOrZero(r.expires_at));
  out.set_state(std::string(r.StatusText(now)));
  out.set_decided_by(r.decided_by);
  out.set_decision_reason(r.decision_reason);
  out.set_decided_at(SecondsOrZero(r.decided_at));
  out.set_used_at(SecondsOrZero(r.used_at));
  out.set_user_issuer(r.binding.user_issuer);
  out.set_user(r.binding.user);
  for (const std::string& actor : r.binding.actor_chain) out.add_actor_chain(actor);
  return out;
}

spinel::v1::AuditEvent AuditEventToProto(const AuditEvent& event) {
  spinel::v1::AuditEvent out;
  out.set_sequence(event.sequence);
  out.set_time_ms(
      std::chrono::duration_cast<std::chrono::milliseconds>(event.time.time_since_epoch()).count());
  out.set_actor(event.actor);
  out.set_zone(event.zone);
  out.set_subject(event.subject);
  out.set_kind(event.kind);
  out.set_outcome(event.outcome);
  out.set_reason(event.reason);
  out.set_details(event.details);
  out.set_prev_hash(event.prev_hash);
  out.set_hash(event.hash);
  out.set_user_issuer(event.user_issuer);
  out.set_user(event.user);
  for (const std::string& actor : event.actor_chain) out.add_actor_chain(actor);
  return out;
}

AuditEvent AuditEventFromProto(const spinel::v1::AuditEvent& proto) {
  AuditEvent event;
  event.time = common::TimePoint(std::chrono::milliseconds(proto.time_ms()));
  event.actor = proto.actor();
  event.zone = proto.zone();
  event.subject = proto.subject();
  event.kind = proto.kind();
  event.outcome = proto.outcome();
  event.reason = proto.reason();
  event.details = proto.details();
  event.user_issuer = proto.user_issuer();
  event.user = proto.user();
  event.actor_chain.assign(proto.actor_chain().begin(), proto.actor_chain().end());
  return event;
}

}  // namespace spinel::server
