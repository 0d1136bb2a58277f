// Datastore: everything spinel-server persists, with an embedded SQLite implementation
// (sqlite_datastore.h) and a PostgreSQL one for several replicas (postgres_datastore.h), both
// SqlStores (sql_store.h). It is the union of one interface per concern, each in its own
// header with the contract of its methods:
//   EntryStore       registration entries                               entry_store.h
//   AgentStore       attested agents and join tokens                    agent_store.h
//   BundleStore      federated bundles and the replicas' own bundles    bundle_store.h
//   FederationStore  federation relationships and their refresh state   federation_store.h
//   AuditStore       the hash-chained audit log                         audit_store.h
//   ApprovalStore    step-up approvals                                  approval_store.h
//   ChangeLog        revisions, change events and the commit listener   change_log.h
// Only the composition root (server.cc) and the tests hold a whole Datastore; every service
// takes the parts it uses.
//
// Contract for every implementation (of every part):
// - Thread-safe: any method may be called from any thread at any time.
// - Durable: a write that returned OK survives a crash (kill -9, power loss as far as the
//   engine's fsync allows). A write that failed changed nothing.
// - Atomic: each method is one transaction; no other caller observes half of it.
// - Errors are values, with these codes (the message always names the object, e.g.
//   `entry "abc" not found`):
//     InvalidArgument     a malformed record (missing SPIFFE ID, no selectors, bad TTL, ...)
//     NotFound            the object does not exist
//     AlreadyExists       an object with the same key (or an identical entry) exists
//     FailedPrecondition  the object is in the wrong state (join token used or expired,
//                         bundle sequence going backwards)
//     Aborted             optimistic concurrency: the entry changed since it was read
//     Unavailable         the storage cannot be written (read-only, disk full, I/O error,
//                         locked too long); the message carries the engine's message and the
//                         database location. Reads keep working when only writes fail.
//     DataLoss            a stored row cannot be decoded, or the database is corrupt
//     Internal            anything else from the engine
// - No default arguments (virtual functions); pass {} for "no filter".
// - Timestamps set by the datastore (created_at, updated_at, used_at) come from the clock
//   the implementation was given; all times are Unix seconds.
//
// Later additions follow the same pattern: records in types.h, a block of methods in the
// concern's interface (or a new one listed here), a schema migration per implementation.
#pragma once

#include "server/datastore/agent_store.h"
#include "server/datastore/approval_store.h"
#include "server/datastore/audit_store.h"
#include "server/datastore/bundle_store.h"
#include "server/datastore/change_log.h"
#include "server/datastore/entry_store.h"
#include "server/datastore/federation_store.h"

namespace spinel::server {

class Datastore : public EntryStore,
                  public AgentStore,
                  public BundleStore,
                  public FederationStore,
                  public AuditStore,
                  public ApprovalStore,
                  public ChangeLog {
 public:
  ~Datastore() override = default;
};

}  // namespace spinel::server
