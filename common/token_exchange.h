// Token exchange for delegation (RFC 8693 semantics; shared/spec/wimse.md §4.1): a workload,
// proved by its WIT-SVID and a Workload Proof Token, presents a subject token and receives a
// delegation token (common/delegation_token.h) signed by its zone, naming the user and the chain
// of workloads acting for that user, bound to the workload's WIT-SVID key.
//
// The subject token is either
//  - a user token from an issuer the workload's zone trusts (common/user_token.h): the new chain
//    is [workload]; the token's audience must be one the zone accepts for that issuer; or
//  - a delegation token the workload received from its caller: its "aud" must be the exchanging
//    workload's SPIFFE ID (and its may_act, when present, the same), and the new chain is the
//    caller's chain with the workload added as the current (outermost) actor; "sub" and the user
//    claims stay the user's.
//
// PlanExchange refuses (each an error whose message starts "token exchange refused: "):
//   PermissionDenied  the subject token's audience (or may_act) is not the exchanging workload;
//                     the new chain would exceed the zone's max_chain; the subject token has
//                     expired (no leeway: a token must not outlive its subject token);
//   InvalidArgument   an empty audience, a requested lifetime <= 0, limits that make no sense.
// The lifetime of the new token is the requested one (default_ttl when none), capped at max_ttl
// and at the subject token's expiry.
//
// ExchangeSubjectToken validates a subject token string and plans the exchange: a token typed
// "delegation+jwt" is validated as a delegation token (audience = the workload's SPIFFE ID);
// any other token as a user token of the trusted issuer its "iss" names (an issuer not in the
// list is InvalidArgument "... is not a trusted issuer"; a trusted issuer whose keys are null,
// because its JWKS could not be read, is Unavailable). Minting is the caller's
// (DelegationTokenSigner of the workload's zone), so the plan can be audited first.
//
// Thread-safe: pure functions of their arguments.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/delegation_token.h"
#include "common/jwks.h"
#include "common/user_token.h"

namespace spinel::common {

// A zone's delegation settings (zone file `delegation`).
struct DelegationLimits {
  size_t max_chain = 0;  // 1..kMaxDelegationChain actors
  Duration default_ttl{};
  Duration max_ttl{};
};

struct ExchangeRequest {
  SpiffeId workload;             // the exchanging workload, proved by WIT-SVID + WPT
  ConfirmationKey workload_key;  // its WIT-SVID's cnf: the new token is bound to it
  std::string audience;          // the target of the new token (a SPIFFE ID or URI)
  std::optional<Duration> ttl;   // requested lifetime; default: limits.default_ttl
};

absl::StatusOr<DelegationClaims> PlanExchange(const UserToken& subject,
                                              const ExchangeRequest& request,
                                              const DelegationLimits& limits, TimePoint now);
absl::StatusOr<DelegationClaims> PlanExchange(const DelegationToken& subject,
                                              const ExchangeRequest& request,
                                              const DelegationLimits& limits, TimePoint now);

// A trusted issuer with its current keys.
struct TrustedIssuerKeys {
  TrustedIssuer issuer;
  std::shared_ptr<const JwkSet> keys;  // e.g. JwksFile::Current()
};

struct SubjectTokenTrust {
  std::span<const TrustedIssuerKeys> issuers;             // of the workload's zone
  const DelegationAuthoritySource* delegation = nullptr;  // every zone's delegation keys
  UserTokenValidationOptions user_options;
  Duration delegation_leeway = kDefaultDelegationLeeway;
};

absl::StatusOr<DelegationClaims> ExchangeSubjectToken(std::string_view subject_token,
                                                      const SubjectTokenTrust& trust,
                                                      const ExchangeRequest& request,
                                                      const DelegationLimits& limits,
                                                      TimePoint now);

}  // namespace spinel::common
