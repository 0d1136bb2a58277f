// Txn-Token validation (draft-ietf-oauth-transaction-tokens-08 and the editor's copy after it;
// shared/spec/wimse.md §4.2), for receivers that get a "Txn-Token" header bound to a Workload
// Proof Token by its "tth" claim. Issuing Txn-Tokens (a Transaction Token Service) is not here.
//
// ValidateTxnToken checks, in this order; each failure is InvalidArgument
// "Txn-Token rejected: <check>: <why>", <check> one of
//   "token"     at most kMaxTxnTokenBytes, three base64url segments, JSON object header/claims;
//   "typ"       exactly "txntoken+jwt" [M];
//   "alg"       RS256/384/512, ES256/384/512, PS256/384/512;
//   "key"       "kid" names one of the trusted Transaction Token Service keys (keys come only
//               from trusted configuration, never from the token);
//   "signature" the key fits alg and the signature verifies [M];
//   "aud"       the receiver's own trust domain (a string, or an array containing it) [M];
//   "exp"       present and now < exp + leeway [M];
//   "claims"    the REQUIRED claims "iat" (a NumericDate), "txn", "sub", "scope" and "req_wl"
//               (non-empty strings) are present.
// Messages never contain the token.
//
// Thread-safe: ValidateTxnToken only reads its arguments.
#pragma once

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/jws.h"
#include "common/keys.h"

namespace spinel::common {

inline constexpr std::string_view kTxnTokenTyp = "txntoken+jwt";
inline constexpr size_t kMaxTxnTokenBytes = 16 * 1024;

// What a receiver trusts, from its configuration.
struct TxnTokenTrust {
  std::string trust_domain;               // the "aud" accepted: this receiver's trust domain
  std::map<std::string, PublicKey> keys;  // the Transaction Token Service's keys, by kid
  Duration leeway = std::chrono::seconds(30);
};

struct TxnToken {
  std::string txn;
  std::string subject;  // "sub"
  std::string scope;
  std::string requesting_workload;  // "req_wl"
  TimePoint issued_at;
  TimePoint expires_at;
  nlohmann::json claims;  // every claim, including "tctx" and "rctx" when present
};

absl::StatusOr<TxnToken> ValidateTxnToken(std::string_view token, const TxnTokenTrust& trust,
                                          TimePoint now);

}  // namespace spinel::common
