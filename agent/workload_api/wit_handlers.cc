// FetchWITSVID, FetchWITBundles and spinel.v1.WitSvids/MintWitSvidForKey (contracts in
// workload_service.h, wit_streams.h and common/proto/wit_svids.proto).
#include "agent/workload_api/wit_streams.h"
#include "agent/workload_api/workload_service.h"
#include "common/grpc_status.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/strings.h"
#include "common/wit_key_proof.h"

namespace spinel::agent {
namespace {

using common::StrCat;

// A stream that is finished before it starts (a request refused before attestation).
template <typename Response>
class FinishedStream final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit FinishedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

absl::Status CheckRequestedId(const std::string& spiffe_id) {
  if (spiffe_id.empty()) return absl::OkStatus();
  absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(spiffe_id);
  if (!id.ok()) {
    return absl::InvalidArgumentError(
        StrCat("invalid requested SPIFFE ID: ", id.status().message()));
  }
  return absl::OkStatus();
}

absl::Status CheckOwnKeyRequest(const spinel::v1::MintWitSvidForKeyRequest& request) {
  if (absl::Status id = CheckRequestedId(request.spiffe_id()); !id.ok()) return id;
  if (absl::Status key =
          common::ParseConfirmationJwkText(request.public_jwk(), "public_jwk").status();
      !key.ok())
    return key;
  if (request.proof().empty()) return absl::InvalidArgumentError("proof must be specified");
  return absl::OkStatus();
}

}  // namespace

absl::Status WorkloadService::WantWitSvids(const common::SelectorSet& selectors,
                                           const std::string& spiffe_id) {
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  std::vector<const CachedEntry*> entries = WitEntries(*snapshot, selectors, spiffe_id);
  if (entries.empty() && !spiffe_id.empty() && snapshot->synced) {
    return absl::PermissionDeniedError(StrCat("no identity issued for ", common::Quote(spiffe_id)));
  }
  std::vector<std::string> ids;
  for (const CachedEntry* entry : entries) ids.push_back(entry->id);
  cache_.RequestWitSvids(ids);
  return absl::OkStatus();
}

grpc::ServerWriteReactor<::WITSVIDResponse>* WorkloadService::FetchWITSVID(
    grpc::CallbackServerContext* context, const ::WITSVIDRequest* request) {
  grpc::Status status = CheckSecurityHeader(*context);
  if (status.ok()) status = common::ToGrpcStatus(CheckRequestedId(request->spiffe_id()));
  if (!status.ok()) return new FinishedStream<::WITSVIDResponse>(status);
  auto* stream = new WitSvidStream(env_, request->spiffe_id());
  StartStream(context, stream,
              [this, spiffe_id = request->spiffe_id()](const common::SelectorSet& selectors) {
                return WantWitSvids(selectors, spiffe_id);
              });
  return stream;
}

grpc::ServerWriteReactor<::WITBundlesResponse>* WorkloadService::FetchWITBundles(
    grpc::CallbackServerContext* context, const ::WITBundlesRequest*) {
  auto* stream = new WitBundlesStream(env_);
  StartStream(context, stream);
  return stream;
}

grpc::ServerUnaryReactor* WorkloadService::MintWitSvidForKey(
    grpc::CallbackServerContext* context, const spinel::v1::MintWitSvidForKeyRequest* request,
    spinel::v1::MintWitSvidForKeyResponse* response) {
  absl::Status check = options_.wit_minter == nullptr
                           ? absl::UnimplementedError("this agent mints no WIT-SVIDs")
                           : CheckOwnKeyRequest(*request);
  return ServeJwtCall(context, check, response,
                      [this, request, response](const common::SelectorSet& selectors) {
                        return MintForOwnKey(selectors, *request, response);
                      });
}

absl::Status WorkloadService::MintForOwnKey(const common::SelectorSet& selectors,
                                            const spinel::v1::MintWitSvidForKeyRequest& request,
                                            spinel::v1::MintWitSvidForKeyResponse* response) {
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  std::vector<const CachedEntry*> entries = WitEntries(*snapshot, selectors, request.spiffe_id());
  if (entries.empty()) return absl::PermissionDeniedError("no identity issued");
  const CachedEntry& entry = *entries.front();
  absl::StatusOr<common::ConfirmationKey> key =
      common::ParseConfirmationJwkText(request.public_jwk(), "public_jwk");
  if (!key.ok()) return key.status();
  absl::Status proved = common::VerifyWitKeyProof(request.proof(), *key, request.spiffe_id(),
                                                  clock_.Now(), wit_key_proofs_);
  if (!proved.ok()) return proved;
  absl::StatusOr<nlohmann::json> cnf = common::ConfirmationJwk(*key);
  if (!cnf.ok()) return cnf.status();
  absl::StatusOr<std::vector<MintedWit>> minted = options_.wit_minter->MintWitSvids(
      std::vector<WitKeyRequest>{WitKeyRequest{entry.id, cnf->dump()}});
  if (!minted.ok()) {
    LOG_WARN("workload API: WIT-SVID minting failed",
             {{"spiffe_id", entry.spiffe_id.ToString()},
              {"error", std::string(minted.status().message())}});
    return absl::UnavailableError(StrCat("could not mint a WIT-SVID for ",
                                         entry.spiffe_id.ToString(), ": ",
                                         minted.status().message()));
  }
  if (minted->size() != 1) return absl::InternalError("server answered no WIT-SVID");
  const MintedWit& wit = minted->front();
  if (!wit.status.ok()) return wit.status;
  response->set_spiffe_id(entry.spiffe_id.ToString());
  response->set_wit_svid(wit.token);
  response->set_expires_at(common::ToUnixSeconds(wit.expires_at));
  return absl::OkStatus();
}

}  // namespace spinel::agent
