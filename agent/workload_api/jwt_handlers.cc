// FetchJWTSVID, ValidateJWTSVID (both through ServeJwtCall: one preamble for the unary JWT
// calls) and the FetchJWTBundles response (contracts in workload_service.h and
// workload_streams.h).
#include <google/protobuf/util/json_util.h>

#include <set>
#include <string>

#include "agent/snapshot_authorities.h"
#include "agent/workload_api/workload_service.h"
#include "agent/workload_api/workload_streams.h"
#include "common/grpc_status.h"
#include "common/json_util.h"
#include "common/jwt_svid.h"
#include "common/log.h"
#include "common/strings.h"

namespace spinel::agent {
namespace {

using common::StrCat;

absl::Status CheckJwtSvidRequest(const ::JWTSVIDRequest& request) {
  if (request.audience_size() == 0) {
    return absl::InvalidArgumentError("audience must be specified");
  }
  if (static_cast<size_t>(request.audience_size()) > kMaxAudiences) {
    return absl::InvalidArgumentError(StrCat("at most ", kMaxAudiences, " audiences allowed"));
  }
  for (const std::string& audience : request.audience()) {
    if (audience.empty() || audience.size() > kMaxAudienceBytes) {
      return absl::InvalidArgumentError(
          StrCat("audience values must be 1 to ", kMaxAudienceBytes, " bytes"));
    }
  }
  if (!request.spiffe_id().empty()) {
    absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(request.spiffe_id());
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          StrCat("invalid requested SPIFFE ID: ", id.status().message()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckValidateJwtSvidRequest(const ::ValidateJWTSVIDRequest& request) {
  if (request.audience().empty()) return absl::InvalidArgumentError("audience must be specified");
  if (request.svid().empty()) return absl::InvalidArgumentError("svid must be specified");
  return absl::OkStatus();
}

absl::Status MintError(const CachedEntry& entry, const absl::Status& status) {
  LOG_WARN("workload API: JWT-SVID minting failed",
           {{"spiffe_id", entry.spiffe_id.ToString()}, {"error", std::string(status.message())}});
  std::string message =
      StrCat("could not mint a JWT-SVID for ", entry.spiffe_id.ToString(), ": ", status.message());
  if (absl::IsInvalidArgument(status) || absl::IsPermissionDenied(status)) {
    return absl::Status(status.code(), message);
  }
  return absl::UnavailableError(message);
}

absl::Status ClaimsToStruct(const nlohmann::json& claims, google::protobuf::Struct* out) {
  absl::StatusOr<std::string> text = common::DumpJson(claims);
  if (!text.ok()) return text.status();
  auto status = google::protobuf::util::JsonStringToMessage(*text, out);
  if (!status.ok()) return absl::InternalError("claims do not convert to a protobuf Struct");
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* WorkloadService::ServeJwtCall(grpc::CallbackServerContext* context,
                                                        const absl::Status& request_check,
                                                        google::protobuf::Message* response,
                                                        JwtCallHandler handle) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status status = CheckSecurityHeader(*context);
  if (status.ok()) status = common::ToGrpcStatus(request_check);
  absl::StatusOr<ProcessInfo> caller = absl::UnknownError("not looked up");
  if (status.ok()) {
    caller = Caller(*context);
    if (!caller.ok()) status = common::ToGrpcStatus(caller.status());
  }
  if (!status.ok()) {
    reactor->Finish(status);
    return reactor;
  }
  workers_.Post([this, reactor, response, handle = std::move(handle), peer = *caller] {
    absl::StatusOr<common::SelectorSet> selectors = Attest(peer);
    absl::Status result = selectors.ok() ? handle(*selectors) : selectors.status();
    if (!result.ok()) response->Clear();
    reactor->Finish(common::ToGrpcStatus(result));
  });
  return reactor;
}

grpc::ServerUnaryReactor* WorkloadService::FetchJWTSVID(grpc::CallbackServerContext* context,
                                                        const ::JWTSVIDRequest* request,
                                                        ::JWTSVIDResponse* response) {
  return ServeJwtCall(context, CheckJwtSvidRequest(*request), response,
                      [this, request, response](const common::SelectorSet& selectors) {
                        return FetchJwtSvids(selectors, *request, response);
                      });
}

absl::Status WorkloadService::FetchJwtSvids(const common::SelectorSet& selectors,
                                            const ::JWTSVIDRequest& request,
                                            ::JWTSVIDResponse* response) {
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  std::vector<const CachedEntry*> matching = snapshot->Matching(selectors);
  if (matching.empty()) return absl::PermissionDeniedError("no identity issued");
  const std::vector<std::string> audience(request.audience().begin(), request.audience().end());
  std::set<std::string> ids;
  std::set<std::string> hints;
  for (const CachedEntry* entry : matching) {
    const std::string id = entry->spiffe_id.ToString();
    if (!request.spiffe_id().empty() && id != request.spiffe_id()) continue;
    if (!ids.insert(id).second) continue;  // one token per identity
    const std::string hint = entry->hint.size() <= kMaxHintBytes ? entry->hint : std::string();
    if (!hint.empty() && !hints.insert(hint).second) continue;
    absl::StatusOr<MintedJwtSvid> minted = jwt_cache_.Get(*entry, audience);
    if (!minted.ok()) return MintError(*entry, minted.status());
    ::JWTSVID* svid = response->add_svids();
    svid->set_spiffe_id(id);
    svid->set_svid(minted->token);
    svid->set_hint(hint);
  }
  if (response->svids_size() == 0) {
    return absl::PermissionDeniedError(
        StrCat("no identity issued for ", common::Quote(request.spiffe_id())));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* WorkloadService::ValidateJWTSVID(grpc::CallbackServerContext* context,
                                                           const ::ValidateJWTSVIDRequest* request,
                                                           ::ValidateJWTSVIDResponse* response) {
  return ServeJwtCall(context, CheckValidateJwtSvidRequest(*request), response,
                      [this, request, response](const common::SelectorSet& selectors) {
                        return ValidateJwt(selectors, *request, response);
                      });
}

absl::Status WorkloadService::ValidateJwt(const common::SelectorSet& selectors,
                                          const ::ValidateJWTSVIDRequest& request,
                                          ::ValidateJWTSVIDResponse* response) const {
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  std::vector<const CachedEntry*> matching = snapshot->Matching(selectors);
  if (matching.empty()) return absl::PermissionDeniedError("no identity issued");
  SnapshotAuthorities authorities(*snapshot, snapshot->TrustedDomains(matching));
  absl::StatusOr<common::JwtSvid> svid =
      common::ValidateJwtSvid(request.svid(), {request.audience()}, authorities, clock_);
  if (!svid.ok()) return absl::InvalidArgumentError(std::string(svid.status().message()));
  response->set_spiffe_id(svid->subject.ToString());
  return ClaimsToStruct(svid->claims, response->mutable_claims());
}

BuiltResponse BuildJwtBundlesResponse(const CacheSnapshot& snapshot,
                                      const common::SelectorSet& selectors,
                                      ::JWTBundlesResponse* out) {
  out->Clear();
  BuiltResponse built;
  std::vector<const CachedEntry*> matching = snapshot.Matching(selectors);
  if (matching.empty()) return built;
  for (const common::TrustDomain& td : snapshot.TrustedDomains(matching)) {
    auto bundle = snapshot.bundles.find(td);
    if (bundle == snapshot.bundles.end()) continue;
    absl::StatusOr<std::string> jwks = bundle->second.JwtAuthoritiesJson();
    if (!jwks.ok()) {
      LOG_WARN("workload API: cannot encode JWT bundle",
               {{"trust_domain", td.name()}, {"error", std::string(jwks.status().message())}});
      continue;
    }
    common::StrAppend(&built.fingerprint, td.name(), "|", *jwks, "\n");
    (*out->mutable_bundles())[td.IdString()] = std::move(*jwks);
  }
  built.has_identity = out->bundles_size() > 0;
  return built;
}

}  // namespace spinel::agent
