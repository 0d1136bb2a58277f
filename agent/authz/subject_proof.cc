#include "agent/authz/subject_proof.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "agent/authz/subject_proof_cache.h"
#include "agent/snapshot_authorities.h"
#include "common/certificate.h"
#include "common/jwt_svid.h"
#include "common/strings.h"
#include "common/x509_svid_validator.h"

namespace spinel::agent {
namespace {

using common::StrCat;

absl::Status Unauthenticated(std::string_view proof, const absl::Status& why) {
  return absl::UnauthenticatedError(StrCat(proof, " not accepted: ", why.message()));
}

// A proved subject and until when its proof holds.
struct Proof {
  ProvedSubject subject;
  common::TimePoint valid_until;
};

std::string AudienceOf(const spinel::v1::AuthorizeRequest& request) {
  return request.audience().empty() ? std::string(kDefaultAuthorizeAudience) : request.audience();
}

absl::StatusOr<Proof> ProveJwt(const spinel::v1::AuthorizeRequest& request,
                               const SnapshotAuthorities& authorities, common::TimePoint now) {
  absl::StatusOr<common::JwtSvid> svid =
      common::ValidateJwtSvid(request.jwt_svid(), {AudienceOf(request)}, authorities, now);
  if (!svid.ok()) return Unauthenticated("JWT-SVID", svid.status());
  return Proof{ProvedSubject{svid->subject, "jwt-svid"}, svid->expires_at};
}

absl::StatusOr<Proof> ProveX509(const spinel::v1::X509SvidChain& chain_proto,
                                const SnapshotAuthorities& authorities, common::TimePoint now) {
  if (static_cast<size_t>(chain_proto.certificates_size()) > kMaxSubjectChainLength) {
    return absl::UnauthenticatedError(StrCat("X509-SVID not accepted: chain longer than ",
                                             kMaxSubjectChainLength, " certificates"));
  }
  std::vector<common::Certificate> chain;
  for (int i = 0; i < chain_proto.certificates_size(); ++i) {
    absl::StatusOr<common::Certificate> cert =
        common::Certificate::FromDer(chain_proto.certificates(i));
    if (!cert.ok()) {
      return Unauthenticated("X509-SVID", absl::InvalidArgumentError(StrCat(
                                              "certificate ", i, ": ", cert.status().message())));
    }
    chain.push_back(*std::move(cert));
  }
  absl::StatusOr<common::VerifiedX509Svid> verified =
      common::VerifyX509Svid(chain, authorities, now);
  if (!verified.ok()) return Unauthenticated("X509-SVID", verified.status());
  common::TimePoint valid_until = common::TimePoint::max();
  for (const common::Certificate& cert : verified->chain) {
    valid_until = std::min(valid_until, cert.NotAfter());
  }
  return Proof{ProvedSubject{verified->id, "x509-svid"}, valid_until};
}

// The proof of the request's subject (shape already checked), uncached.
absl::StatusOr<Proof> Prove(const spinel::v1::AuthorizeRequest& request,
                            const CacheSnapshot& snapshot, common::TimePoint now) {
  SnapshotAuthorities authorities(snapshot);
  if (request.subject_case() == spinel::v1::AuthorizeRequest::kJwtSvid) {
    return ProveJwt(request, authorities, now);
  }
  return ProveX509(request.x509_svid(), authorities, now);
}

absl::Status CheckSubject(const spinel::v1::AuthorizeRequest& request) {
  switch (request.subject_case()) {
    case spinel::v1::AuthorizeRequest::kJwtSvid:
      if (request.jwt_svid().empty()) return absl::InvalidArgumentError("jwt_svid is empty");
      return absl::OkStatus();
    case spinel::v1::AuthorizeRequest::kX509Svid:
      if (request.x509_svid().certificates_size() == 0) {
        return absl::InvalidArgumentError("x509_svid has no certificates");
      }
      return absl::OkStatus();
    case spinel::v1::AuthorizeRequest::kWorkloadProof:
      return absl::InvalidArgumentError(
          "a workload_proof subject is proved by ProveWorkloadProof (workload_proof.h)");
    default:
      return absl::InvalidArgumentError("no subject: set jwt_svid, x509_svid or workload_proof");
  }
}

absl::StatusOr<std::string> CacheKey(const spinel::v1::AuthorizeRequest& request) {
  if (request.subject_case() == spinel::v1::AuthorizeRequest::kJwtSvid) {
    return SubjectProofKeyJwt(AudienceOf(request), request.jwt_svid());
  }
  return SubjectProofKeyX509(request.x509_svid());
}

}  // namespace

absl::StatusOr<ProvedSubject> ProveSubject(const spinel::v1::AuthorizeRequest& request,
                                           const CacheSnapshot& snapshot, common::TimePoint now,
                                           SubjectProofCache* cache) {
  absl::Status shape = CheckSubject(request);
  if (!shape.ok()) return shape;
  absl::StatusOr<std::string> key =
      cache != nullptr ? CacheKey(request) : absl::StatusOr<std::string>(std::string());
  const bool cached = cache != nullptr && key.ok();
  if (cached) {
    if (std::optional<ProvedSubject> hit = cache->Find(*key, snapshot, now)) return *hit;
  }
  absl::StatusOr<Proof> proof = Prove(request, snapshot, now);
  if (!proof.ok()) return proof.status();
  if (cached) cache->Insert(*key, snapshot, proof->subject, now, proof->valid_until);
  return std::move(proof->subject);
}

}  // namespace spinel::agent
