// ApprovalBackend: where the Authorizer takes APPROVAL_REQUIRED decisions — the server's step-up
// approval RPCs (agent.proto CreateApproval / UseApproval). ServerClient implements it over the
// agent API; errors are the server's status (code and message) or the transport's (UNAVAILABLE,
// DEADLINE_EXCEEDED when the server cannot be reached).
//
// Thread-safety: implementations are called concurrently from the Authorization API's workers.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "agent.pb.h"
#include "types.pb.h"

namespace spinel::agent {

class ApprovalBackend {
 public:
  virtual ~ApprovalBackend() = default;
  // Records an approval request for `request` (or returns the identical pending one).
  // FAILED_PRECONDITION when the server's own policy does not require approval for it.
  virtual absl::StatusOr<spinel::v1::Approval> CreateApproval(
      const spinel::v1::AccessRequest& request) = 0;
  // Consumes approval `approval_id` for exactly `request`: OK at most once, before expiry;
  // PERMISSION_DENIED whose message is the reason otherwise.
  virtual absl::StatusOr<spinel::v1::Approval> UseApproval(
      const std::string& approval_id, const spinel::v1::AccessRequest& request) = 0;
};

}  // namespace spinel::agent
