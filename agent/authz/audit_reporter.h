// AuditReporter: where the AuditForwarder delivers decision audit events — the server's
// ReportAuditEvents RPC (agent.proto). ServerClient implements it over the agent API.
//
// Thread-safety: called from the forwarder's one background thread (and from tests).
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "agent.pb.h"

namespace spinel::agent {

class AuditReporter {
 public:
  virtual ~AuditReporter() = default;
  // Sends one batch; returns how many events the server stored. Any error means the batch
  // was not stored (the server stores a batch in one transaction) and may be sent again.
  virtual absl::StatusOr<uint64_t> ReportAuditEvents(
      const spinel::v1::ReportAuditEventsRequest& request) = 0;
};

}  // namespace spinel::agent
