// ApprovalStore: step-up approvals and their state transitions (one part of the Datastore,
// datastore.h).
//
// Contract: that of every Datastore part (datastore.h): thread-safe, durable, each method one
// transaction, errors as values with the codes listed there, no default arguments.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/spiffe_id.h"
#include "server/datastore/types.h"

namespace spinel::server {

class ApprovalStore {
 public:
  virtual ~ApprovalStore() = default;

  // Each transition is one read-modify-write transaction that applies the
  // zones::ApprovalRequest method with the datastore's clock, so concurrent calls on one
  // approval are serialized: of any number of concurrent UseApproval calls at most one
  // succeeds. A refused transition changes nothing and returns the state machine's error
  // (FailedPrecondition for Approve/Deny in the wrong state or after expiry, PermissionDenied
  // for every refused Use, InvalidArgument for an empty approver or deny reason); an unknown
  // id is NotFound `approval "<id>" not found`.
  //
  // Stores `approval` (request.id set by the caller, e.g. zones::NewApprovalId(); state
  // pending). If a pending, unexpired approval with the same binding (subject, resource,
  // action, context digest, and the same user and actor chain — or none) exists, it is
  // returned instead with created = false. The binding's user (issuer, subject) and actor
  // chain are stored with it and read back unchanged. AlreadyExists
  // if the id is taken; InvalidArgument for an empty id or a context whose digest is not the
  // binding's.
  virtual absl::StatusOr<CreatedApproval> CreateApproval(const ApprovalRecord& approval) = 0;
  virtual absl::StatusOr<ApprovalRecord> GetApproval(std::string_view id) = 0;
  // Newest first (created_at descending, then id).
  virtual absl::StatusOr<std::vector<ApprovalRecord>> ListApprovals(
      const ApprovalFilter& filter) = 0;
  virtual absl::StatusOr<ApprovalRecord> ApproveApproval(std::string_view id,
                                                         std::string_view approver,
                                                         std::string_view reason) = 0;
  virtual absl::StatusOr<ApprovalRecord> DenyApproval(std::string_view id,
                                                      std::string_view approver,
                                                      std::string_view reason) = 0;
  virtual absl::StatusOr<ApprovalRecord> UseApproval(std::string_view id,
                                                     const zones::ApprovalBinding& presented) = 0;
};

}  // namespace spinel::server
