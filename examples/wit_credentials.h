// A client workload's WIMSE credentials: its WIT-SVID and private key from the Workload API
// (FetchWITSVID; shared/spec/wimse.md §2), the Workload-Identity-Token and Workload-Proof-Token
// headers for each HTTP request (a new WPT every time; aud = the target URI, ath = the hash of
// a bearer delegation token when one is sent), and token exchange at the agent
// (spinel.v1.TokenExchange: a user's token -> a delegation token bound to this WIT key).
//
// For the demo's negative case, SignWithUnboundKey() makes every later WPT be signed by a fresh
// key instead of the WIT's: what a thief holding a copied WIT but not its key could send.
//
// Thread-safety: one thread at a time. The key never leaves this object.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "authorization.grpc.pb.h"
#include "common/keys.h"
#include "common/workload_proof_request.h"

namespace spinel::examples {

inline constexpr char kTokenExchangeAudience[] = "urn:spinel:agent:token-exchange";

class WitCredentials {
 public:
  // The default WIT-SVID of the caller from the Workload API on `workload_socket`.
  static absl::StatusOr<std::unique_ptr<WitCredentials>> Fetch(
      std::shared_ptr<grpc::Channel> workload_socket);

  const std::string& spiffe_id() const { return spiffe_id_; }

  // The headers proving this workload for one request to `target_uri`; with `bearer_token`
  // also "Authorization: Bearer <token>", bound by the WPT's ath.
  absl::StatusOr<std::vector<common::HttpHeader>> ProofHeaders(
      const std::string& target_uri, const std::string& bearer_token = "") const;

  // Exchanges `subject_token` (a user's token or a delegation token received) for a delegation
  // token whose audience is `audience`. Errors are the agent's gRPC status.
  absl::StatusOr<spinel::v1::TokenExchangeResponse> Exchange(const std::string& subject_token,
                                                             const std::string& audience) const;

  // From now on, WPTs are signed with a fresh key that is not the WIT's (refused by receivers).
  absl::Status SignWithUnboundKey();

 private:
  WitCredentials(std::shared_ptr<grpc::Channel> channel, std::string spiffe_id, std::string wit,
                 common::PrivateKey key);
  absl::StatusOr<std::string> Wpt(const std::string& audience,
                                  const std::string& bearer_token) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::string spiffe_id_;
  std::string wit_;
  common::PrivateKey key_;
  std::optional<common::PrivateKey> unbound_key_;
};

}  // namespace spinel::examples
