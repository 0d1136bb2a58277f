#include "trust-zones/policy.h"

#include "common/delegation_token.h"
#include "common/strings.h"
#include "trust-zones/delegation_rule.h"

namespace spinel::zones {
namespace {

using common::Quote;
using common::StrCat;

const RequestContext& EmptyContext() {
  static const RequestContext kEmpty;
  return kEmpty;
}

Decision Deny(std::string reason) { return {Verdict::kDeny, nullptr, nullptr, std::move(reason)}; }

struct Match {
  const Zone* zone = nullptr;
  const Rule* rule = nullptr;
};

// The request, parsed once.
struct Parsed {
  ResourceKind kind;
  std::string_view name;
  Action action;
};

absl::StatusOr<Parsed> ParseRequest(const AccessRequest& request) {
  const size_t colon = request.resource.find(':');
  std::optional<ResourceKind> kind =
      colon == std::string_view::npos ? std::nullopt : ParseKind(request.resource.substr(0, colon));
  if (!kind) {
    return absl::InvalidArgumentError(
        StrCat("resource ", Quote(request.resource),
               " is not <kind>:<name> with kind dataset, secret, tool or zone"));
  }
  const std::string_view name = request.resource.substr(colon + 1);
  absl::Status status = CheckResourceName(name);
  if (!status.ok()) return status;
  std::optional<Action> action = ParseAction(*kind, request.action);
  if (!action) {
    return absl::InvalidArgumentError(StrCat("action ", Quote(request.action), " is not one of ",
                                             KindName(*kind), "'s (", ActionVocabulary(*kind),
                                             ")"));
  }
  return Parsed{*kind, name, *action};
}

absl::Status CheckDelegation(const DelegationContext* delegation) {
  if (delegation == nullptr) return absl::OkStatus();
  if (delegation->user.empty()) return absl::InvalidArgumentError("the delegation has no user");
  if (delegation->actors.empty() || delegation->actors.size() > common::kMaxDelegationChain) {
    return absl::InvalidArgumentError(
        StrCat("the delegation must have 1 to ", common::kMaxDelegationChain, " actors"));
  }
  return absl::OkStatus();
}

// Kind, action, name and `when`: everything but the delegation conditions.
bool Matches(const Rule& rule, const Parsed& request, const RequestContext& context) {
  return rule.kind == request.kind && rule.Covers(request.action) && rule.ConditionsHold(context) &&
         rule.pattern.Matches(request.name);
}

std::string ZoneNames(std::span<const Zone* const> zones) {
  std::string out;
  for (const Zone* zone : zones) {
    if (zone != nullptr) common::StrAppend(&out, out.empty() ? "" : ", ", zone->name);
  }
  return out.empty() ? "(none)" : out;
}

// The first matching rules of each kind, in decision order.
struct Found {
  Match allow;
  Match approval;
  Match delegation_miss;  // an allow rule that failed only on its delegation conditions
  std::string delegation_mismatch;

  void NoteDelegationMiss(const Zone* zone, const Rule& rule, std::string why) {
    if (rule.effect != Effect::kAllow || delegation_miss.rule != nullptr) return;
    delegation_miss = {zone, &rule};
    delegation_mismatch = std::move(why);
  }
};

// Steps 3 to 6 of the decision order (policy.h).
Decision Decide(const Found& found, std::span<const Zone* const> zones,
                const AccessRequest& request) {
  if (found.approval.rule != nullptr) {
    return {Verdict::kApprovalRequired, found.approval.zone, found.approval.rule,
            StrCat("rule ", found.approval.rule->id, " requires approval for ", request.action,
                   " on ", request.resource)};
  }
  if (found.allow.rule != nullptr) {
    return {Verdict::kAllow, found.allow.zone, found.allow.rule,
            StrCat("rule ", found.allow.rule->id, " allows ", request.action, " on ",
                   request.resource)};
  }
  if (found.delegation_miss.rule != nullptr) {
    return Deny(StrCat("rule ", found.delegation_miss.rule->id, " allows ", request.action, " on ",
                       request.resource, " only on behalf of a user: ", found.delegation_mismatch));
  }
  return Deny(StrCat("no rule of zone ", ZoneNames(zones), " allows ", request.action, " on ",
                     request.resource));
}

}  // namespace

std::string_view VerdictName(Verdict verdict) {
  switch (verdict) {
    case Verdict::kAllow:
      return "ALLOW";
    case Verdict::kApprovalRequired:
      return "APPROVAL_REQUIRED";
    case Verdict::kDeny:
      break;
  }
  return "DENY";
}

absl::Status CheckResourceName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("resource name is empty");
  if (name.size() > kMaxResourceNameLength) {
    return absl::InvalidArgumentError(
        StrCat("resource name is longer than ", kMaxResourceNameLength, " bytes"));
  }
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7f) {
      return absl::InvalidArgumentError(StrCat("resource name ", Quote(name),
                                               " may contain only printable ASCII without spaces"));
    }
  }
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view segment = name.substr(start, end - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          StrCat("resource name ", Quote(name), " has an empty, \".\" or \"..\" path segment"));
    }
    start = end + 1;
  }
  return absl::OkStatus();
}

Decision Evaluate(std::span<const Zone* const> zones, const AccessRequest& request) {
  absl::StatusOr<Parsed> parsed = ParseRequest(request);
  if (!parsed.ok()) return Deny(std::string(parsed.status().message()));
  absl::Status delegation = CheckDelegation(request.delegation);
  if (!delegation.ok()) return Deny(std::string(delegation.message()));
  const RequestContext& context = request.context ? *request.context : EmptyContext();
  Found found;
  for (const Zone* zone : zones) {
    if (zone == nullptr) continue;
    for (const Rule& rule : zone->rules) {
      if (!Matches(rule, *parsed, context)) continue;
      std::string mismatch = DelegationMismatch(rule.delegation, request.delegation);
      if (!mismatch.empty()) {
        found.NoteDelegationMiss(zone, rule, std::move(mismatch));
      } else if (rule.effect == Effect::kDeny) {
        return {Verdict::kDeny, zone, &rule,
                StrCat("rule ", rule.id, " denies ", request.action, " on ", request.resource)};
      } else {
        Match& slot = rule.approval_required ? found.approval : found.allow;
        if (slot.rule == nullptr) slot = {zone, &rule};
      }
    }
  }
  return Decide(found, zones, request);
}

Decision Evaluate(const ZoneSet& set, const common::SpiffeId& subject,
                  const AccessRequest& request) {
  const Zone* zone = set.ZoneOf(subject);
  if (zone == nullptr) {
    return Deny(StrCat("subject ", Quote(subject.ToString()), " is in no known zone"));
  }
  if (request.delegation != nullptr && !request.delegation->actors.empty() &&
      request.delegation->actors.front().id != subject) {
    return Deny(StrCat("the delegation's current actor ",
                       Quote(request.delegation->actors.front().id.ToString()),
                       " is not the subject ", Quote(subject.ToString())));
  }
  const Zone* const zones[] = {zone};
  return Evaluate(zones, request);
}

}  // namespace spinel::zones
