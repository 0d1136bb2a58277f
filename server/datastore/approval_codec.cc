#include "server/datastore/approval_codec.h"

#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {

using common::Quote;
using common::StrCat;
using zones::ApprovalState;

absl::Status ApprovalNotFound(std::string_view id) {
  return absl::NotFoundError(StrCat("approval ", Quote(id), " not found"));
}

absl::StatusOr<ApprovalState> ParseApprovalState(const std::string& text, std::string_view id) {
  for (ApprovalState s : {ApprovalState::kPending, ApprovalState::kApproved, ApprovalState::kDenied,
                          ApprovalState::kUsed}) {
    if (zones::ApprovalStateName(s) == text) return s;
  }
  return absl::DataLossError(
      StrCat("approval ", Quote(id), " has an unknown stored state ", Quote(text)));
}

absl::StatusOr<std::string> EncodeApprovalContext(const zones::RequestContext& context) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [key, value] : context) object[key] = value;
  try {
    return object.dump();
  } catch (const nlohmann::json::exception&) {
    return absl::InvalidArgumentError("approval: the request context is not valid UTF-8");
  }
}

absl::StatusOr<zones::RequestContext> DecodeApprovalContext(const std::string& text,
                                                            std::string_view id) {
  nlohmann::json object = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!object.is_object()) {
    return absl::DataLossError(
        StrCat("approval ", Quote(id), " has a stored context that is not a JSON object"));
  }
  zones::RequestContext context;
  for (const auto& [key, value] : object.items()) {
    if (!value.is_string()) {
      return absl::DataLossError(
          StrCat("approval ", Quote(id), " has a non-string context value for ", Quote(key)));
    }
    context.emplace(key, value.get<std::string>());
  }
  return context;
}

absl::StatusOr<ApprovalRecord> ReadApproval(const SqlRow& row) {
  ApprovalRecord out;
  zones::ApprovalRequest& r = out.request;
  r.id = row.Text(0);
  r.binding = {row.Text(1), row.Text(2), row.Text(3), row.Text(4)};
  SPINEL_ASSIGN_OR_RETURN(out.context, DecodeApprovalContext(row.Text(5), r.id));
  r.requesting_agent = row.Text(6);
  r.zone = row.Text(7);
  r.rule_id = row.Text(8);
  r.created_at = FromUnixMillis(row.Int(9));
  r.expires_at = FromUnixMillis(row.Int(10));
  SPINEL_ASSIGN_OR_RETURN(r.state, ParseApprovalState(row.Text(11), r.id));
  r.decided_by = row.Text(12);
  r.decision_reason = row.Text(13);
  r.decided_at = FromUnixMillis(row.Int(14));
  r.used_at = FromUnixMillis(row.Int(15));
  r.binding.user_issuer = row.Text(16);
  r.binding.user = row.Text(17);
  SPINEL_ASSIGN_OR_RETURN(r.binding.actor_chain,
                          DecodeStrings(row.Text(18), StrCat("approval ", Quote(r.id))));
  return out;
}

absl::Status ValidateNewApproval(const ApprovalRecord& approval) {
  const zones::ApprovalRequest& r = approval.request;
  if (r.id.empty() || r.id.size() > kMaxApprovalIdLength) {
    return absl::InvalidArgumentError("approval: id must be 1 to 128 characters");
  }
  if (r.state != ApprovalState::kPending) {
    return absl::InvalidArgumentError(
        StrCat("approval ", Quote(r.id), ": a new approval must be pending"));
  }
  SPINEL_ASSIGN_OR_RETURN(std::string digest, zones::ContextDigest(approval.context));
  if (digest != r.binding.context_digest) {
    return absl::InvalidArgumentError(StrCat(
        "approval ", Quote(r.id), ": the request context does not match the context digest"));
  }
  return EncodeApprovalContext(approval.context).status();
}

}  // namespace spinel::server
