// Workload Proof Tokens (draft-ietf-wimse-wpt-01; shared/spec/wimse.md §3): the proof that the
// presenter of a WIT-SVID holds the private key of its "cnf.jwk", bound to one HTTP request.
//
// Creating (CreateWpt, §3.2): header exactly {"alg": <the WIT's cnf.jwk.alg>, "typ":"wpt+jwt"};
// claims "aud" (the target URI without query or fragment), "exp" (now + a short lifetime),
// "jti" (b64u of 16 random bytes), "wth" = b64u(SHA-256(WIT as sent)), and "ath" / "tth" /
// "oth" for every access token / Txn-Token / other token the request carries. A new WPT for
// every request: receivers may enforce one-time use.
//
// Verifying: common/wpt_verifier.h.
//
// Thread-safety: CreateWpt may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/keys.h"
#include "common/wit_svid.h"

namespace spinel::common {

inline constexpr std::string_view kWptTyp = "wpt+jwt";
inline constexpr size_t kMaxWptBytes = 8 * 1024;
inline constexpr Duration kDefaultWptLifetime = std::chrono::seconds(30);
inline constexpr Duration kDefaultMaxWptLifetime = std::chrono::seconds(300);

// The tokens of a request besides the WIT; the WPT binds every one that is present.
struct BoundTokens {
  std::optional<std::string> access_token;  // the token only, never "Bearer <token>"
  std::optional<std::string> txn_token;     // the Txn-Token header value
  // Other tokens carrying user identity or authorization context: lower-case header name ->
  // header value as sent (hashed with leading and trailing spaces trimmed).
  std::map<std::string, std::string> other_tokens;
};

struct WptParams {
  std::string audience;  // the request's target URI: scheme://authority/path, no query/fragment
  BoundTokens tokens;
  Duration lifetime = kDefaultWptLifetime;  // 1 s .. kDefaultMaxWptLifetime
};

// A WPT for one request, signed with `workload_key`, the private half of the WIT's cnf.jwk.
// The WIT (from the Workload API) is decoded, not verified. InvalidArgument for a malformed
// WIT, a key that is not the cnf key, a bad audience, lifetime or other-token name;
// FailedPrecondition when the WIT has expired (its key must not be used any more).
absl::StatusOr<std::string> CreateWpt(std::string_view wit, const PrivateKey& workload_key,
                                      const WptParams& params, TimePoint now);

// True for a non-empty name without upper-case ASCII letters: how "oth" names headers.
bool IsLowerCaseHeaderName(std::string_view name);
// b64u(SHA-256(header value with leading and trailing spaces trimmed)): an "oth" entry.
absl::StatusOr<std::string> OtherTokenHash(std::string_view header_value);

}  // namespace spinel::common
