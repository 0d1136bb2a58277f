// EntryStore: the registration entries spinel-server persists (one part of the Datastore,
// datastore.h). Writes go through the EntryRegistry (server/entries/registry.h), which applies
// the zones' rules; readers (the agent and admin APIs) take this interface.
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

class EntryStore {
 public:
  virtual ~EntryStore() = default;

  // Creates `entry`; an empty id gets a fresh random UUID. Returns the stored entry (id,
  // zone, normalized selectors, revision 0, created_at = updated_at = now). AlreadyExists if
  // the id is taken or an entry with the same SPIFFE ID, parent and selectors exists.
  virtual absl::StatusOr<RegistrationEntry> CreateEntry(const RegistrationEntry& entry) = 0;
  // Replaces every field of the entry `entry.id` except created_at. `entry.revision_number`
  // must be the stored revision (the one the caller read), else Aborted; the stored entry
  // gets revision + 1 and updated_at = now, and is returned.
  virtual absl::StatusOr<RegistrationEntry> UpdateEntry(const RegistrationEntry& entry) = 0;
  // Deletes and returns the entry.
  virtual absl::StatusOr<RegistrationEntry> DeleteEntry(std::string_view id) = 0;
  virtual absl::StatusOr<RegistrationEntry> GetEntry(std::string_view id) = 0;
  virtual absl::StatusOr<EntryPage> ListEntries(const EntryFilter& filter,
                                                const PageRequest& page) = 0;
  virtual absl::StatusOr<int64_t> CountEntries(const EntryFilter& filter) = 0;
  // Every entry whose parent is one of `parent_ids` (an agent's ID and the node-alias IDs it
  // matches), in id order: what an agent is served.
  virtual absl::StatusOr<std::vector<RegistrationEntry>> ListEntriesByParents(
      const std::vector<common::SpiffeId>& parent_ids) = 0;
};

}  // namespace spinel::server
