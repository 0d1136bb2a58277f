// Proving the subject of an Authorize call: the caller presents the subject's JWT-SVID or
// X509-SVID chain, and the agent verifies it against the authorities of the bundles it holds
// (its current IdentityCache snapshot: the zones it serves, their peers and the control trust
// domain). The claimed identity is never taken on trust.
//
//  - JWT-SVID: common::ValidateJwtSvid with the expected audience (AuthorizeRequest.audience,
//    or kDefaultAuthorizeAudience when empty); the key is the jwt-svid key with the token's kid
//    in the bundle of the token's own trust domain.
//  - X509-SVID: the DER certificates (leaf first, at most kMaxSubjectChainLength) verified with
//    common::VerifyX509Svid against the x509-svid authorities of the leaf's trust domain.
//
// Errors: InvalidArgument when the request carries no subject (or an empty chain);
// Unauthenticated, naming the proof and why it failed, for everything else (bad signature,
// expired, wrong audience, unknown kid or trust domain, chain that does not verify).
// With a SubjectProofCache, a proof already made (same token and audience, same chain) under
// the same bundles and still within its validity is returned without verifying again
// (subject_proof_cache.h); without one, every call verifies. Thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "agent/identity_cache.h"
#include "authorization.pb.h"
#include "common/clock.h"
#include "common/spiffe_id.h"

namespace spinel::agent {

inline constexpr std::string_view kDefaultAuthorizeAudience = "spinel-authorize";
inline constexpr size_t kMaxSubjectChainLength = 8;

struct ProvedSubject {
  common::SpiffeId id;
  std::string proof;  // "jwt-svid" or "x509-svid"
};

class SubjectProofCache;

absl::StatusOr<ProvedSubject> ProveSubject(const spinel::v1::AuthorizeRequest& request,
                                           const CacheSnapshot& snapshot, common::TimePoint now,
                                           SubjectProofCache* cache = nullptr);

}  // namespace spinel::agent
