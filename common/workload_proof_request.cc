#include "common/workload_proof_request.h"

#include "common/json_util.h"
#include "common/jwt_decode.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

template <typename... Args>
absl::Status Reject(const Args&... why) {
  return absl::InvalidArgumentError(StrCat("request rejected: ", why...));
}

bool SameNameIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// The values of every field named `name`.
std::vector<std::string_view> FieldValues(const std::vector<HttpHeader>& headers,
                                          std::string_view name) {
  std::vector<std::string_view> values;
  for (const HttpHeader& header : headers) {
    if (SameNameIgnoringCase(header.name, name)) values.push_back(header.value);
  }
  return values;
}

// The single value of `name`, nullopt when absent; more than one field is refused.
absl::StatusOr<std::optional<std::string_view>> AtMostOne(const std::vector<HttpHeader>& headers,
                                                          std::string_view name) {
  std::vector<std::string_view> values = FieldValues(headers, name);
  if (values.size() > 1) return Reject(values.size(), " ", name, " fields; exactly one allowed");
  if (values.empty()) return std::nullopt;
  return values.front();
}

absl::StatusOr<std::string_view> ExactlyOne(const std::vector<HttpHeader>& headers,
                                            std::string_view name) {
  SPINEL_ASSIGN_OR_RETURN(std::optional<std::string_view> value, AtMostOne(headers, name));
  if (!value) {
    return Reject("no ", name, " field (a WIT-SVID is only accepted with its proof of possession)");
  }
  return *value;
}

bool LooksLikeWit(std::string_view token) {
  absl::StatusOr<DecodedJwt> jwt = DecodeCompactJwt(token, kMaxWitSvidBytes);
  if (!jwt.ok()) return false;
  const nlohmann::json* typ = FindMember(jwt->header, "typ");
  return typ != nullptr && typ->is_string() &&
         SameNameIgnoringCase(typ->get_ref<const std::string&>(), kWitSvidTyp);
}

// The bearer access token of the Authorization field, if any.
absl::StatusOr<std::optional<std::string>> BearerToken(const std::vector<HttpHeader>& headers) {
  SPINEL_ASSIGN_OR_RETURN(std::optional<std::string_view> value,
                          AtMostOne(headers, kAuthorizationHeader));
  if (!value) return std::nullopt;
  constexpr std::string_view kScheme = "Bearer ";
  if (value->size() <= kScheme.size() ||
      !SameNameIgnoringCase(value->substr(0, kScheme.size()), kScheme)) {
    return Reject("Authorization is not \"Bearer <token>\"; the WPT cannot bind it");
  }
  const std::string_view token = value->substr(kScheme.size());
  if (LooksLikeWit(token)) {
    return Reject("a WIT-SVID in Authorization: a WIT is never a bearer token");
  }
  return std::optional<std::string>(std::string(token));
}

}  // namespace

absl::StatusOr<std::vector<HttpHeader>> WorkloadProofHeaders(std::string_view wit,
                                                             const PrivateKey& workload_key,
                                                             const WptParams& params,
                                                             TimePoint now) {
  SPINEL_ASSIGN_OR_RETURN(std::string wpt, CreateWpt(wit, workload_key, params, now));
  return std::vector<HttpHeader>{{std::string(kWorkloadIdentityTokenHeader), std::string(wit)},
                                 {std::string(kWorkloadProofTokenHeader), std::move(wpt)}};
}

WorkloadProofRequestVerifier::WorkloadProofRequestVerifier(const WptVerifier& verifier,
                                                           std::optional<TxnTokenTrust> txn_trust)
    : verifier_(verifier), txn_trust_(std::move(txn_trust)) {}

absl::StatusOr<BoundTokens> WorkloadProofRequestVerifier::CollectBoundTokens(
    const std::vector<HttpHeader>& headers) const {
  BoundTokens tokens;
  SPINEL_ASSIGN_OR_RETURN(tokens.access_token, BearerToken(headers));
  SPINEL_ASSIGN_OR_RETURN(std::optional<std::string_view> txn, AtMostOne(headers, kTxnTokenHeader));
  if (txn) tokens.txn_token = std::string(*txn);
  for (const std::string& name : verifier_.options().other_token_headers) {
    SPINEL_ASSIGN_OR_RETURN(std::optional<std::string_view> value, AtMostOne(headers, name));
    if (value) tokens.other_tokens.emplace(name, std::string(*value));
  }
  return tokens;
}

absl::StatusOr<ProvenRequest> WorkloadProofRequestVerifier::Verify(
    const std::vector<HttpHeader>& headers, std::string_view target_uri, TimePoint now) const {
  SPINEL_ASSIGN_OR_RETURN(BoundTokens tokens, CollectBoundTokens(headers));
  SPINEL_ASSIGN_OR_RETURN(std::string_view wpt, ExactlyOne(headers, kWorkloadProofTokenHeader));
  SPINEL_ASSIGN_OR_RETURN(std::string_view wit, ExactlyOne(headers, kWorkloadIdentityTokenHeader));
  if (tokens.txn_token && !txn_trust_) {
    return Reject("a Txn-Token is present but this receiver trusts no Transaction Token Service");
  }
  WptRequest request{wit, wpt, target_uri, tokens};
  SPINEL_ASSIGN_OR_RETURN(ProvenWorkload workload, verifier_.Verify(request, now));
  ProvenRequest proven{std::move(workload), tokens.access_token, std::nullopt};
  if (tokens.txn_token) {
    SPINEL_ASSIGN_OR_RETURN(proven.txn_token,
                            ValidateTxnToken(*tokens.txn_token, *txn_trust_, now));
  }
  return proven;
}

}  // namespace spinel::common
