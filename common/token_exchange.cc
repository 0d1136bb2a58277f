#include "common/token_exchange.h"

#include <algorithm>

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

template <typename... Args>
absl::Status Refuse(const Args&... why) {
  return absl::PermissionDeniedError(StrCat("token exchange refused: ", why...));
}

template <typename... Args>
absl::Status Invalid(const Args&... why) {
  return absl::InvalidArgumentError(StrCat("token exchange refused: ", why...));
}

absl::Status CheckRequest(const ExchangeRequest& request, const DelegationLimits& limits) {
  if (limits.max_chain == 0 || limits.max_chain > kMaxDelegationChain ||
      limits.default_ttl <= Duration::zero() || limits.max_ttl < limits.default_ttl) {
    return Invalid("the zone's delegation limits are not usable");
  }
  if (request.workload.empty()) return Invalid("no exchanging workload");
  if (request.audience.empty()) return Invalid("the new token needs an audience");
  if (request.ttl && *request.ttl <= Duration::zero()) {
    return Invalid("the requested lifetime must be greater than zero");
  }
  return absl::OkStatus();
}

// The plan for `actors` acting for `user` until at most `subject_expiry`.
absl::StatusOr<DelegationClaims> Plan(DelegatedUser user, std::vector<SpiffeId> actors,
                                      TimePoint subject_expiry, const ExchangeRequest& request,
                                      const DelegationLimits& limits, TimePoint now) {
  if (actors.size() > limits.max_chain) {
    return Refuse("the chain would have ", actors.size(), " actors; the zone allows at most ",
                  limits.max_chain);
  }
  if (ToUnixSeconds(subject_expiry) <= ToUnixSeconds(now)) {
    return Refuse("the subject token expired at ", ToUnixSeconds(subject_expiry));
  }
  const Duration ttl = std::min(request.ttl.value_or(limits.default_ttl), limits.max_ttl);
  DelegationClaims out{.confirmation = request.workload_key};
  out.user = std::move(user);
  out.actors = std::move(actors);
  out.audience = request.audience;
  out.issued_at = now;
  out.expires_at = std::min(now + ttl, subject_expiry);
  return out;
}

const TrustedIssuerKeys* FindIssuer(std::span<const TrustedIssuerKeys> issuers,
                                    std::string_view iss) {
  for (const TrustedIssuerKeys& issuer : issuers) {
    if (issuer.issuer.issuer == iss) return &issuer;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<DelegationClaims> PlanExchange(const UserToken& subject,
                                              const ExchangeRequest& request,
                                              const DelegationLimits& limits, TimePoint now) {
  SPINEL_RETURN_IF_ERROR(CheckRequest(request, limits));
  DelegatedUser user{subject.issuer, subject.subject, subject.claims};
  return Plan(std::move(user), {request.workload}, subject.expires_at, request, limits, now);
}

absl::StatusOr<DelegationClaims> PlanExchange(const DelegationToken& subject,
                                              const ExchangeRequest& request,
                                              const DelegationLimits& limits, TimePoint now) {
  SPINEL_RETURN_IF_ERROR(CheckRequest(request, limits));
  const std::string workload = request.workload.ToString();
  if (subject.claims.audience != workload) {
    return Refuse("the subject token's audience is not the exchanging workload ", Quote(workload));
  }
  if (subject.may_act && *subject.may_act != request.workload) {
    return Refuse("the subject token's may_act does not name the exchanging workload");
  }
  std::vector<SpiffeId> actors;
  actors.reserve(subject.claims.actors.size() + 1);
  actors.push_back(request.workload);
  actors.insert(actors.end(), subject.claims.actors.begin(), subject.claims.actors.end());
  return Plan(subject.claims.user, std::move(actors), subject.claims.expires_at, request, limits,
              now);
}

absl::StatusOr<DelegationClaims> ExchangeSubjectToken(std::string_view subject_token,
                                                      const SubjectTokenTrust& trust,
                                                      const ExchangeRequest& request,
                                                      const DelegationLimits& limits,
                                                      TimePoint now) {
  SPINEL_ASSIGN_OR_RETURN(std::string typ, UnverifiedTyp(subject_token));
  if (typ == kDelegationTokenTyp) {
    if (trust.delegation == nullptr) return Invalid("no delegation token keys are configured");
    DelegationValidationOptions options;
    options.audience = request.workload.ToString();
    options.leeway = trust.delegation_leeway;
    SPINEL_ASSIGN_OR_RETURN(
        DelegationToken subject,
        ValidateDelegationToken(subject_token, *trust.delegation, now, options));
    return PlanExchange(subject, request, limits, now);
  }
  SPINEL_ASSIGN_OR_RETURN(std::string iss, UnverifiedIssuer(subject_token));
  const TrustedIssuerKeys* issuer = FindIssuer(trust.issuers, iss);
  if (issuer == nullptr) {
    return Invalid("the subject token's issuer ", Quote(iss), " is not a trusted issuer");
  }
  if (issuer->keys == nullptr) {
    return absl::UnavailableError(StrCat("token exchange: the keys of trusted issuer ", Quote(iss),
                                         " cannot be read (see the server log)"));
  }
  SPINEL_ASSIGN_OR_RETURN(
      UserToken subject,
      ValidateUserToken(subject_token, issuer->issuer, *issuer->keys, now, trust.user_options));
  return PlanExchange(subject, request, limits, now);
}

}  // namespace spinel::common
