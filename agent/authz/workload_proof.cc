#include "agent/authz/workload_proof.h"

#include "agent/snapshot_authorities.h"
#include "common/delegation_token.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::StrCat;

absl::Status Rejected(std::string_view why) {
  return absl::InvalidArgumentError(StrCat("request rejected: ", why));
}

absl::Status CheckShape(const std::vector<common::HttpHeader>& headers,
                        std::string_view target_uri) {
  if (target_uri.empty()) return Rejected("the target URI is empty");
  if (target_uri.size() > kMaxTargetUriBytes) {
    return Rejected(StrCat("the target URI is longer than ", kMaxTargetUriBytes, " bytes"));
  }
  if (target_uri.find_first_of("?#") != std::string_view::npos) {
    return Rejected("the target URI must have no query or fragment");
  }
  if (headers.size() > kMaxProofHeaders) {
    return Rejected(StrCat("more than ", kMaxProofHeaders, " headers"));
  }
  for (const common::HttpHeader& header : headers) {
    if (header.name.empty() || header.name.size() > kMaxProofHeaderBytes ||
        header.value.size() > kMaxProofHeaderBytes) {
      return Rejected(StrCat("header names must be 1 to ", kMaxProofHeaderBytes,
                             " bytes and values at most ", kMaxProofHeaderBytes, " bytes"));
    }
  }
  return absl::OkStatus();
}

std::vector<common::HttpHeader> HeadersOf(const spinel::v1::WorkloadProof& proof) {
  std::vector<common::HttpHeader> headers;
  headers.reserve(proof.headers_size());
  for (const spinel::v1::HttpHeader& header : proof.headers()) {
    headers.push_back({header.name(), header.value()});
  }
  return headers;
}

const zones::ZoneSet& ZonesOf(const CacheSnapshot& snapshot) {
  static const zones::ZoneSet* const kNoZones = new zones::ZoneSet();
  return snapshot.zones != nullptr ? *snapshot.zones : *kNoZones;
}

}  // namespace

absl::StatusOr<common::ProvenRequest> ProveWorkloadRequest(
    const std::vector<common::HttpHeader>& headers, std::string_view target_uri,
    const CacheSnapshot& snapshot, common::WptReplayCache& replay_cache, common::TimePoint now,
    common::VerifiedSignatureCache* signatures) {
  SPINEL_RETURN_IF_ERROR(CheckShape(headers, target_uri));
  SnapshotAuthorities authorities(snapshot);
  common::WptVerificationOptions options;
  options.wit.signatures = signatures;
  const common::WptVerifier wpt_verifier(authorities, replay_cache, std::move(options));
  // No Txn-Token trust is configured on the agent: a request carrying one is refused.
  const common::WorkloadProofRequestVerifier verifier(wpt_verifier, std::nullopt);
  return verifier.Verify(headers, target_uri, now);
}

absl::StatusOr<ProvedWorkload> ProveWorkloadProof(const spinel::v1::WorkloadProof& proof,
                                                  std::string_view audience,
                                                  const CacheSnapshot& snapshot,
                                                  common::WptReplayCache& replay_cache,
                                                  common::TimePoint now,
                                                  common::VerifiedSignatureCache* signatures) {
  SPINEL_ASSIGN_OR_RETURN(common::ProvenRequest request,
                          ProveWorkloadRequest(HeadersOf(proof), proof.target_uri(), snapshot,
                                               replay_cache, now, signatures));
  ProvedWorkload proved{std::move(request.workload), std::nullopt, std::nullopt};
  if (!request.access_token.has_value()) return proved;
  common::DelegationValidationOptions options;
  options.audience = audience.empty() ? proof.target_uri() : std::string(audience);
  options.signatures = signatures;
  options.presenter =
      common::DelegationPresenter{proved.workload.subject, proved.workload.wit_svid.confirmation};
  SnapshotAuthorities authorities(snapshot);
  SPINEL_ASSIGN_OR_RETURN(
      common::DelegationToken token,
      common::ValidateDelegationToken(*request.access_token, authorities, now, options));
  proved.delegation = zones::DelegationContext::FromToken(ZonesOf(snapshot), token.claims);
  proved.token = std::move(token);
  return proved;
}

}  // namespace spinel::agent
