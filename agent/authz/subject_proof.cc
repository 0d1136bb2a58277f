#include "agent/authz/subject_proof.h"

#include <vector>

#include "common/certificate.h"
#include "common/jwt_svid.h"
#include "common/strings.h"
#include "common/x509_svid_validator.h"

namespace spinel::agent {
namespace {

using common::StrCat;

// The authorities of every bundle in a snapshot, by trust domain (never pooled).
class SnapshotAuthorities final : public common::X509AuthoritySource,
                                  public common::JwtAuthoritySource {
 public:
  explicit SnapshotAuthorities(const CacheSnapshot& snapshot) : snapshot_(snapshot) {}

  std::optional<std::vector<common::Certificate>> X509AuthoritiesFor(
      const common::TrustDomain& td) const override {
    auto bundle = snapshot_.bundles.find(td);
    if (bundle == snapshot_.bundles.end()) return std::nullopt;
    return bundle->second.x509_authorities;
  }

  absl::StatusOr<common::PublicKey> FindJwtAuthority(const common::TrustDomain& td,
                                                     std::string_view kid) const override {
    auto bundle = snapshot_.bundles.find(td);
    if (bundle == snapshot_.bundles.end()) {
      return absl::NotFoundError(StrCat("no bundle for trust domain ", td.name()));
    }
    const common::PublicKey* key = bundle->second.FindJwtAuthority(kid);
    if (key == nullptr) {
      return absl::NotFoundError(
          StrCat("trust domain ", td.name(), " has no jwt-svid key with kid ", common::Quote(kid)));
    }
    return *key;
  }

 private:
  const CacheSnapshot& snapshot_;
};

absl::Status Unauthenticated(std::string_view proof, const absl::Status& why) {
  return absl::UnauthenticatedError(StrCat(proof, " not accepted: ", why.message()));
}

absl::StatusOr<ProvedSubject> ProveJwt(const spinel::v1::AuthorizeRequest& request,
                                       const SnapshotAuthorities& authorities,
                                       common::TimePoint now) {
  std::string audience =
      request.audience().empty() ? std::string(kDefaultAuthorizeAudience) : request.audience();
  absl::StatusOr<common::JwtSvid> svid =
      common::ValidateJwtSvid(request.jwt_svid(), {audience}, authorities, now);
  if (!svid.ok()) return Unauthenticated("JWT-SVID", svid.status());
  return ProvedSubject{svid->subject, "jwt-svid"};
}

absl::StatusOr<ProvedSubject> ProveX509(const spinel::v1::X509SvidChain& chain_proto,
                                        const SnapshotAuthorities& authorities,
                                        common::TimePoint now) {
  if (chain_proto.certificates_size() == 0) {
    return absl::InvalidArgumentError("x509_svid has no certificates");
  }
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
  return ProvedSubject{verified->id, "x509-svid"};
}

}  // namespace

absl::StatusOr<ProvedSubject> ProveSubject(const spinel::v1::AuthorizeRequest& request,
                                           const CacheSnapshot& snapshot, common::TimePoint now) {
  SnapshotAuthorities authorities(snapshot);
  switch (request.subject_case()) {
    case spinel::v1::AuthorizeRequest::kJwtSvid:
      if (request.jwt_svid().empty()) return absl::InvalidArgumentError("jwt_svid is empty");
      return ProveJwt(request, authorities, now);
    case spinel::v1::AuthorizeRequest::kX509Svid:
      return ProveX509(request.x509_svid(), authorities, now);
    default:
      return absl::InvalidArgumentError("no subject: set jwt_svid or x509_svid");
  }
}

}  // namespace spinel::agent
