// A resource guard's client of the agent's Authorization API (spinel.v1.Authorization, served
// on the Workload API socket), for callers proved the WIMSE way: the guard forwards the proof
// headers it received (Workload-Identity-Token, Workload-Proof-Token and a bearer delegation
// token) with the target URI it built from its own configuration, and the agent proves the
// caller (and on whose behalf it acts) and decides on the zone policy; the agent audits it.
//
// Errors are the agent's gRPC status: INVALID_ARGUMENT for a proof that fails, ALREADY_EXISTS
// for a replayed WPT, UNAVAILABLE before the agent has a policy.
#pragma once

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "authorization.grpc.pb.h"
#include "common/workload_proof_request.h"

namespace spinel::examples {

struct ProofAuthorizeRequest {
  std::string target_uri;                      // e.g. https://127.0.0.1:8443/mcp
  std::vector<common::HttpHeader> headers;     // the proof headers as received
  std::string audience;                        // a bound delegation token's "aud"
  std::string resource;                        // e.g. "tool:tool-runner/deploy.production"
  std::string action;                          // e.g. "invoke"
  std::map<std::string, std::string> context;  // e.g. environment=production
  std::string approval_id;                     // "" when none
};

class AuthorizeClient {
 public:
  explicit AuthorizeClient(std::shared_ptr<grpc::Channel> workload_socket);

  // Authorize with a workload_proof subject. A policy answer (ALLOW, DENY, APPROVAL_REQUIRED)
  // is OK.
  absl::StatusOr<spinel::v1::AuthorizeResponse> Authorize(const ProofAuthorizeRequest& request);

  // VerifyWorkloadProof: the proved caller, without a policy decision.
  absl::StatusOr<spinel::v1::VerifyWorkloadProofResponse> Verify(
      const std::string& target_uri, const std::vector<common::HttpHeader>& headers,
      const std::string& audience);

 private:
  std::unique_ptr<spinel::v1::Authorization::Stub> stub_;
};

}  // namespace spinel::examples
