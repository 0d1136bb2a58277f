// WptVerifier: a receiver's verification of a Workload Proof Token together with its WIT-SVID
// (draft-ietf-wimse-wpt-01 §2; shared/spec/wimse.md §3.3). Step 1 (exactly one
// Workload-Proof-Token and one Workload-Identity-Token field) belongs to the HTTP layer
// (common/workload_proof_request.h); this class runs the rest.
//
// The steps run in this order; each failure is
// InvalidArgument "WPT rejected: <check>: <why>" (or the WIT-SVID's own "WIT-SVID rejected:
// <check>: ..." for step 3), except that a replay is AlreadyExists and a full replay cache
// ResourceExhausted, both "WPT rejected: jti: ...":
//   2 "token"     the WPT is one well-formed compact JWT (three base64url segments, JSON objects);
//   3 (WIT)       the WIT-SVID validates completely (common/wit_svid.h), keys from the trusted
//                 bundles only;
//   4 "alg"       the WPT's alg string-equals cnf.jwk.alg ("none" and HS* refused first, before
//                 any cryptography);
//   5 "signature" the signature verifies with cnf.jwk;
//   6 "typ"       conveys wpt+jwt: "wpt+jwt" or "application/wpt+jwt", compared without case;
//   7 "aud"       a string with no '?' or '#' that equals the target URI (with its query and
//                 fragment removed) or an alias from trusted configuration. The target URI is
//                 the caller's, built from trusted configuration: never from Host or
//                 X-Forwarded-Host;
//   8 "exp"       present, now < exp + leeway, and exp - now <= max_lifetime;
//   9 "wth"       present and equal to b64u(SHA-256(WIT));
//  10 "jti"       a non-empty string, not seen before for this WIT "sub" (WptReplayCache; kept
//                 until exp + leeway);
//  11 "ath"/"tth" when the request carries an access token / Txn-Token, present and equal to
//                 b64u(SHA-256(token)); when it carries none, absent;
//  12 "oth"       an object whose every key is lower-case, names an other-token header this
//                 verifier understands and the request carries, with b64u(SHA-256(value with
//                 leading/trailing spaces trimmed)); and every other token the request carries
//                 has its entry.
// Only then is the caller proved: a ProvenWorkload. Messages never contain tokens or hashes.
// Receivers answer failures with HTTP 400, not 401 (§3.5).
//
// Thread-safety: Verify may be called from any thread at once. A WptVerifier borrows its
// WitAuthoritySource and WptReplayCache, which must outlive it.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/replay_cache.h"
#include "common/wit_svid.h"
#include "common/wpt.h"

namespace spinel::common {

inline constexpr Duration kDefaultWptLeeway = std::chrono::seconds(60);

// What one received request presents.
struct WptRequest {
  std::string_view wit;         // the Workload-Identity-Token value
  std::string_view wpt;         // the Workload-Proof-Token value
  std::string_view target_uri;  // built from trusted configuration; query/fragment ignored
  BoundTokens tokens;
};

struct WptVerificationOptions {
  Duration leeway = kDefaultWptLeeway;
  Duration max_lifetime = kDefaultMaxWptLifetime;
  std::vector<std::string> audience_aliases;  // accepted besides the target URI (trusted config)
  std::set<std::string> other_token_headers;  // lower-case names of the oth tokens understood
  WitSvidValidationOptions wit;
};

// A caller that proved, for this one request, possession of its WIT-SVID's key.
struct ProvenWorkload {
  SpiffeId subject;          // the WIT "sub": authorize on this, within its trust domain
  UnprovenWitSvid wit_svid;  // the WIT-SVID, now proved by the WPT
  std::string wpt_jti;
  TimePoint wpt_expires_at;
  bool access_token_bound = false;
  bool txn_token_bound = false;
  std::vector<std::string> other_tokens_bound;  // lower-case header names
};

class WptVerifier {
 public:
  WptVerifier(const WitAuthoritySource& authorities, WptReplayCache& replay_cache,
              WptVerificationOptions options = {});

  absl::StatusOr<ProvenWorkload> Verify(const WptRequest& request, TimePoint now) const;

  const WptVerificationOptions& options() const { return options_; }

 private:
  // Step 10: the jti, recorded in the replay cache until exp + leeway.
  absl::StatusOr<std::string> CheckJti(const nlohmann::json& claims, const SpiffeId& subject,
                                       TimePoint expires_at, TimePoint now) const;

  const WitAuthoritySource& authorities_;
  WptReplayCache& replay_cache_;
  const WptVerificationOptions options_;
};

}  // namespace spinel::common
