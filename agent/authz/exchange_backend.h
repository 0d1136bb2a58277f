// ExchangeBackend: where the agent's TokenExchange gets delegation tokens signed — the server's
// agent API ExchangeToken (agent.proto: the server validates the subject token, checks the
// zone's delegation rules and signs with the zone's active JWT-SVID key). ServerClient
// implements it; errors are the server's status (INVALID_ARGUMENT, PERMISSION_DENIED, ...) or
// the transport's (UNAVAILABLE, DEADLINE_EXCEEDED when the server cannot be reached).
//
// Thread-safety: implementations are called concurrently from the TokenExchange workers.
#pragma once

#include "absl/status/statusor.h"
#include "agent.pb.h"

namespace spinel::agent {

class ExchangeBackend {
 public:
  virtual ~ExchangeBackend() = default;
  virtual absl::StatusOr<spinel::v1::ExchangeTokenResponse> ExchangeToken(
      const spinel::v1::ExchangeTokenRequest& request) = 0;
};

}  // namespace spinel::agent
