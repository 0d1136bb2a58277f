#include "examples/wit_credentials.h"

#include <chrono>

#include "common/base64.h"
#include "common/grpc_status.h"
#include "common/jwt_encode.h"
#include "common/private_jwk.h"
#include "common/random.h"
#include "common/secret_data.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/wpt.h"
#include "examples/workload_identity.h"
#include "workload.grpc.pb.h"

namespace spinel::examples {
namespace {

using common::StrCat;
using nlohmann::json;

constexpr auto kRpcDeadline = std::chrono::seconds(10);

std::chrono::system_clock::time_point Now() { return std::chrono::system_clock::now(); }

int64_t UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

WitCredentials::WitCredentials(std::shared_ptr<grpc::Channel> channel, std::string spiffe_id,
                               std::string wit, common::PrivateKey key)
    : channel_(std::move(channel)),
      spiffe_id_(std::move(spiffe_id)),
      wit_(std::move(wit)),
      key_(std::move(key)) {}

absl::StatusOr<std::unique_ptr<WitCredentials>> WitCredentials::Fetch(
    std::shared_ptr<grpc::Channel> workload_socket) {
  auto stub = ::SpiffeWorkloadAPI::NewStub(workload_socket);
  auto context = WorkloadApiClient::NewContext(kRpcDeadline);
  auto reader = stub->FetchWITSVID(context.get(), ::WITSVIDRequest());
  ::WITSVIDResponse response;
  if (!reader->Read(&response)) return common::FromGrpcStatus(reader->Finish());
  context->TryCancel();
  if (response.svids_size() == 0) return absl::InternalError("the agent sent no WIT-SVID");
  ::WITSVID& svid = *response.mutable_svids(0);
  absl::StatusOr<common::PrivateKey> key = common::PrivateKeyFromJwk(svid.wit_svid_key());
  common::WipeSecret(*svid.mutable_wit_svid_key());
  if (!key.ok()) return key.status();
  return std::unique_ptr<WitCredentials>(new WitCredentials(
      std::move(workload_socket), svid.spiffe_id(), svid.wit_svid(), std::move(*key)));
}

absl::Status WitCredentials::SignWithUnboundKey() {
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey fresh, common::PrivateKey::Generate(key_.type()));
  unbound_key_ = std::move(fresh);
  return absl::OkStatus();
}

absl::StatusOr<std::string> WitCredentials::Wpt(const std::string& audience,
                                                const std::string& bearer_token) const {
  common::WptParams params;
  params.audience = audience;
  if (!bearer_token.empty()) params.tokens.access_token = bearer_token;
  if (!unbound_key_) return common::CreateWpt(wit_, key_, params, Now());
  // The forged case: CreateWpt refuses a key that is not the WIT's, so sign it here.
  const common::JwsAlgorithm alg = common::DefaultJwsAlgorithm(unbound_key_->type());
  SPINEL_ASSIGN_OR_RETURN(common::JwsSigner signer, common::JwsSigner::Create(*unbound_key_, alg));
  SPINEL_ASSIGN_OR_RETURN(std::string jti, common::RandomBytes(16));
  SPINEL_ASSIGN_OR_RETURN(std::string wth, common::OtherTokenHash(wit_));
  json claims = {{"aud", audience},
                 {"exp", UnixSeconds(Now() + params.lifetime)},
                 {"jti", common::Base64UrlEncode(jti)},
                 {"wth", wth}};
  if (!bearer_token.empty()) {
    SPINEL_ASSIGN_OR_RETURN(std::string ath, common::OtherTokenHash(bearer_token));
    claims["ath"] = ath;
  }
  SPINEL_ASSIGN_OR_RETURN(std::string header,
                          common::EncodeJwtHeader(alg, /*kid=*/"", common::kWptTyp));
  return common::SignJwt(signer, header, claims);
}

absl::StatusOr<std::vector<common::HttpHeader>> WitCredentials::ProofHeaders(
    const std::string& target_uri, const std::string& bearer_token) const {
  SPINEL_ASSIGN_OR_RETURN(std::string wpt, Wpt(target_uri, bearer_token));
  std::vector<common::HttpHeader> headers = {
      {std::string(common::kWorkloadIdentityTokenHeader), wit_},
      {std::string(common::kWorkloadProofTokenHeader), std::move(wpt)}};
  if (!bearer_token.empty()) {
    headers.push_back({std::string(common::kAuthorizationHeader), "Bearer " + bearer_token});
  }
  return headers;
}

absl::StatusOr<spinel::v1::TokenExchangeResponse> WitCredentials::Exchange(
    const std::string& subject_token, const std::string& audience) const {
  spinel::v1::TokenExchangeRequest request;
  request.set_wit_svid(wit_);
  SPINEL_ASSIGN_OR_RETURN(std::string wpt, Wpt(kTokenExchangeAudience, subject_token));
  request.set_wpt(std::move(wpt));
  request.set_subject_token(subject_token);
  request.set_subject_token_type("urn:ietf:params:oauth:token-type:jwt");
  request.set_audience(audience);
  auto stub = spinel::v1::TokenExchange::NewStub(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kRpcDeadline);
  spinel::v1::TokenExchangeResponse response;
  grpc::Status status = stub->Exchange(&context, request, &response);
  if (!status.ok()) return common::FromGrpcStatus(status);
  return response;
}

}  // namespace spinel::examples
