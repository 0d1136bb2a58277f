#include "trust-zones/approval.h"

#include <openssl/rand.h>

#include "common/delegation_token.h"
#include "common/rfc3339.h"
#include "common/sha256.h"
#include "common/spiffe_id.h"
#include "common/ssl_error.h"
#include "common/strings.h"
#include "trust-zones/policy.h"

namespace spinel::zones {
namespace {

using common::IsSha256Hex;
using common::Quote;
using common::Sha256Hex;
using common::StrCat;

absl::Status Invalid(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat("approval ", field, ": ", problem));
}

absl::Status CheckSpiffeIdField(std::string_view field, const std::string& value) {
  absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(value);
  return id.ok() ? absl::OkStatus() : Invalid(field, std::string(id.status().message()));
}

// The resource is "<kind>:<name>" and the action is in the kind's vocabulary.
absl::Status CheckResourceAndAction(const ApprovalBinding& binding) {
  const size_t colon = binding.resource.find(':');
  std::optional<ResourceKind> kind =
      colon == std::string::npos ? std::nullopt : ParseKind(binding.resource.substr(0, colon));
  if (!kind) return Invalid("resource", StrCat(Quote(binding.resource), " is not <kind>:<name>"));
  absl::Status name = CheckResourceName(std::string_view(binding.resource).substr(colon + 1));
  if (!name.ok()) return Invalid("resource", std::string(name.message()));
  if (!ParseAction(*kind, binding.action)) {
    return Invalid("action",
                   StrCat(Quote(binding.action), " is not one of ", ActionVocabulary(*kind)));
  }
  return absl::OkStatus();
}

absl::Status CheckDelegation(const ApprovalBinding& binding) {
  if (binding.user.empty() && binding.user_issuer.empty() && binding.actor_chain.empty()) {
    return absl::OkStatus();
  }
  if (binding.user.empty() || binding.user_issuer.empty()) {
    return Invalid("user", "a delegated approval needs the user's subject and issuer");
  }
  if (binding.actor_chain.empty() || binding.actor_chain.size() > common::kMaxDelegationChain) {
    return Invalid("actor_chain",
                   StrCat("must have 1 to ", common::kMaxDelegationChain, " SPIFFE IDs"));
  }
  for (const std::string& actor : binding.actor_chain) {
    absl::Status status = CheckSpiffeIdField("actor_chain", actor);
    if (!status.ok()) return status;
  }
  if (binding.actor_chain.front() != binding.subject) {
    return Invalid("actor_chain", "the current actor (first) must be the subject");
  }
  return absl::OkStatus();
}

std::string ChainText(const std::vector<std::string>& chain) {
  if (chain.empty()) return "(none)";
  std::string out;
  for (const std::string& actor : chain) common::StrAppend(&out, out.empty() ? "" : " <- ", actor);
  return out;
}

std::string UserText(const ApprovalBinding& binding) {
  return binding.delegated() ? StrCat(Quote(binding.user), " of ", Quote(binding.user_issuer))
                             : "nobody";
}

absl::Status CheckNew(const NewApproval& request) {
  if (request.id.empty()) return Invalid("id", "must not be empty");
  absl::Status status = CheckSpiffeIdField("subject", request.binding.subject);
  if (status.ok()) status = CheckSpiffeIdField("requesting_agent", request.requesting_agent);
  if (status.ok()) status = CheckResourceAndAction(request.binding);
  if (status.ok()) status = CheckDelegation(request.binding);
  if (!status.ok()) return status;
  if (!IsSha256Hex(request.binding.context_digest)) {
    return Invalid("context_digest", "expected 64 lower-case hex digits (SHA-256)");
  }
  if (request.ttl <= common::Duration::zero()) return Invalid("ttl", "must be greater than zero");
  return absl::OkStatus();
}

// Why `presented` does not match `bound`, or "" when it does.
std::string Mismatch(const ApprovalBinding& bound, const ApprovalBinding& presented) {
  if (presented.subject != bound.subject) {
    return StrCat("it was granted for subject ", Quote(bound.subject), ", not ",
                  Quote(presented.subject));
  }
  if (presented.resource != bound.resource) {
    return StrCat("it was granted for resource ", Quote(bound.resource), ", not ",
                  Quote(presented.resource));
  }
  if (presented.action != bound.action) {
    return StrCat("it was granted for action ", Quote(bound.action), ", not ",
                  Quote(presented.action));
  }
  if (presented.context_digest != bound.context_digest) {
    return "the request context differs from the one that was approved";
  }
  if (presented.user != bound.user || presented.user_issuer != bound.user_issuer) {
    return StrCat("it was granted on behalf of ", UserText(bound), ", not ", UserText(presented));
  }
  if (presented.actor_chain != bound.actor_chain) {
    return StrCat("it was granted for the chain ", ChainText(bound.actor_chain), ", not ",
                  ChainText(presented.actor_chain));
  }
  return "";
}

}  // namespace

std::string_view ApprovalStateName(ApprovalState state) {
  switch (state) {
    case ApprovalState::kPending:
      return "pending";
    case ApprovalState::kApproved:
      return "approved";
    case ApprovalState::kDenied:
      return "denied";
    case ApprovalState::kUsed:
      break;
  }
  return "used";
}

std::string CanonicalContext(const RequestContext& context) {
  std::string out;
  for (const auto& [key, value] : context) {
    common::StrAppend(&out, key.size(), ":", key, "=", value.size(), ":", value, "\n");
  }
  return out;
}

absl::StatusOr<std::string> ContextDigest(const RequestContext& context) {
  return Sha256Hex(CanonicalContext(context));
}

absl::StatusOr<ApprovalBinding> ApprovalBinding::Make(std::string subject, std::string resource,
                                                      std::string action,
                                                      const RequestContext& context,
                                                      const DelegationContext* delegation) {
  absl::StatusOr<std::string> digest = ContextDigest(context);
  if (!digest.ok()) return digest.status();
  ApprovalBinding out{std::move(subject), std::move(resource), std::move(action),
                      *std::move(digest)};
  if (delegation != nullptr) {
    out.user_issuer = delegation->user_issuer;
    out.user = delegation->user;
    out.actor_chain = delegation->ActorIds();
  }
  return out;
}

absl::StatusOr<ApprovalRequest> ApprovalRequest::Create(NewApproval request,
                                                        const common::Clock& clock) {
  absl::Status status = CheckNew(request);
  if (!status.ok()) return status;
  ApprovalRequest out;
  out.id = std::move(request.id);
  out.binding = std::move(request.binding);
  out.requesting_agent = std::move(request.requesting_agent);
  out.zone = std::move(request.zone);
  out.rule_id = std::move(request.rule_id);
  out.created_at = clock.Now();
  out.expires_at = out.created_at + request.ttl;
  return out;
}

std::string_view ApprovalRequest::StatusText(common::TimePoint now) const {
  const bool live = state == ApprovalState::kPending || state == ApprovalState::kApproved;
  return live && IsExpired(now) ? "expired" : ApprovalStateName(state);
}

absl::Status ApprovalRequest::Approve(std::string_view approver, std::string_view reason,
                                      const common::Clock& clock) {
  const common::TimePoint now = clock.Now();
  if (approver.empty()) return absl::InvalidArgumentError("approver must not be empty");
  if (state != ApprovalState::kPending) {
    return absl::FailedPreconditionError(
        StrCat("approval ", id, " is ", ApprovalStateName(state), ", not pending"));
  }
  if (IsExpired(now)) {
    return absl::FailedPreconditionError(
        StrCat("approval ", id, " expired at ", common::FormatRfc3339(expires_at)));
  }
  state = ApprovalState::kApproved;
  decided_by = std::string(approver);
  decision_reason = std::string(reason);
  decided_at = now;
  return absl::OkStatus();
}

absl::Status ApprovalRequest::Deny(std::string_view approver, std::string_view reason,
                                   const common::Clock& clock) {
  if (approver.empty()) return absl::InvalidArgumentError("approver must not be empty");
  if (reason.empty()) return absl::InvalidArgumentError("a denial needs a reason");
  if (state != ApprovalState::kPending) {
    return absl::FailedPreconditionError(
        StrCat("approval ", id, " is ", ApprovalStateName(state), ", not pending"));
  }
  state = ApprovalState::kDenied;
  decided_by = std::string(approver);
  decision_reason = std::string(reason);
  decided_at = clock.Now();
  return absl::OkStatus();
}

absl::Status ApprovalRequest::Use(const ApprovalBinding& presented, const common::Clock& clock) {
  const common::TimePoint now = clock.Now();
  const std::string prefix = StrCat("approval ", id, " cannot be used: ");
  switch (state) {
    case ApprovalState::kPending:
      return absl::PermissionDeniedError(StrCat(prefix, "it has not been approved"));
    case ApprovalState::kDenied:
      return absl::PermissionDeniedError(
          StrCat(prefix, "it was denied by ", decided_by, ": ", decision_reason));
    case ApprovalState::kUsed:
      return absl::PermissionDeniedError(
          StrCat(prefix, "it was already used at ", common::FormatRfc3339(used_at)));
    case ApprovalState::kApproved:
      break;
  }
  if (IsExpired(now)) {
    return absl::PermissionDeniedError(
        StrCat(prefix, "it expired at ", common::FormatRfc3339(expires_at)));
  }
  const std::string mismatch = Mismatch(binding, presented);
  if (!mismatch.empty()) return absl::PermissionDeniedError(StrCat(prefix, mismatch));
  state = ApprovalState::kUsed;
  used_at = now;
  return absl::OkStatus();
}

absl::StatusOr<std::string> NewApprovalId() {
  static constexpr char kHex[] = "0123456789abcdef";
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) return common::SslError("approval id: RAND_bytes");
  std::string id = "apr-";
  for (unsigned char b : bytes) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 0xf]);
  }
  return id;
}

}  // namespace spinel::zones
