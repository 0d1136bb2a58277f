// The HTTP face of WIMSE proof of possession (shared/spec/wimse.md §1.7, §3.1, §3.3 step 1,
// §4.2): which request headers carry the WIT-SVID, its Workload Proof Token and the tokens the
// proof binds, for senders (WorkloadProofHeaders) and receivers (WorkloadProofRequestVerifier).
//
// Receiving, in this order; each failure is InvalidArgument "request rejected: <why>" unless
// a later stage reports its own ("WPT rejected: ...", "WIT-SVID rejected: ...", "Txn-Token
// rejected: ..."):
//  - Authorization: at most one field; when present it must be "Bearer <token>" (the token
//    becomes the access token the WPT must bind with "ath"), and the token must not be a
//    WIT-SVID (typ wit+jwt): a WIT is never a bearer token (WIT-SVID §5, §7.1);
//  - exactly one Workload-Proof-Token field and exactly one Workload-Identity-Token field
//    (header names compare without case; values are case-sensitive);
//  - Txn-Token: at most one field; other-token headers (the verifier's other_token_headers):
//    at most one field each, since repeated headers are not supported by "oth";
//  - the WptVerifier's steps 2-12 (common/wpt_verifier.h) against `target_uri`, which the
//    caller builds from trusted configuration; Host and X-Forwarded-Host are never read;
//  - a present Txn-Token is validated (common/txn_token.h) against the configured trust; a
//    receiver configured without one refuses any request that carries a Txn-Token.
// The result is the proved caller and the validated tokens. Messages never contain tokens.
//
// Thread-safety: WorkloadProofHeaders and Verify may be called from any thread at once; the
// verifier borrows its WptVerifier, which must outlive it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/txn_token.h"
#include "common/wpt.h"
#include "common/wpt_verifier.h"

namespace spinel::common {

inline constexpr std::string_view kWorkloadIdentityTokenHeader = "Workload-Identity-Token";
inline constexpr std::string_view kWorkloadProofTokenHeader = "Workload-Proof-Token";
inline constexpr std::string_view kTxnTokenHeader = "Txn-Token";
inline constexpr std::string_view kAuthorizationHeader = "Authorization";

struct HttpHeader {
  std::string name;
  std::string value;
};

// The Workload-Identity-Token and Workload-Proof-Token headers for one request (CreateWpt).
absl::StatusOr<std::vector<HttpHeader>> WorkloadProofHeaders(std::string_view wit,
                                                             const PrivateKey& workload_key,
                                                             const WptParams& params,
                                                             TimePoint now);

struct ProvenRequest {
  ProvenWorkload workload;
  std::optional<std::string> access_token;  // the bound bearer token, not yet validated
  std::optional<TxnToken> txn_token;        // validated and bound
};

class WorkloadProofRequestVerifier {
 public:
  // `txn_trust`: how Txn-Tokens are validated; nullopt refuses requests that carry one.
  WorkloadProofRequestVerifier(const WptVerifier& verifier,
                               std::optional<TxnTokenTrust> txn_trust = std::nullopt);

  absl::StatusOr<ProvenRequest> Verify(const std::vector<HttpHeader>& headers,
                                       std::string_view target_uri, TimePoint now) const;

 private:
  absl::StatusOr<BoundTokens> CollectBoundTokens(const std::vector<HttpHeader>& headers) const;

  const WptVerifier& verifier_;
  const std::optional<TxnTokenTrust> txn_trust_;
};

}  // namespace spinel::common
