// PeerRegistry: who is on the other end of each Workload API connection.
//
// gRPC C++ does not expose Unix-socket peer credentials, so the agent accepts connections
// itself (socket_listener.h), reads SO_PEERCRED, and records the credentials here under the
// connection's fd number BEFORE handing the fd to gRPC (grpc::AddInsecureChannelFromFd). Every
// call on that connection then reports ServerContext::peer() == "fd:N", and the service looks
// the caller up with Lookup(context->peer()) while the call is alive.
//
// Why an fd number is a sound key: gRPC keeps fd N open until every call on the connection has
// been destroyed, so while a call is alive no other connection can have fd N, and a reused
// number is always re-recorded (Record replaces the old record) before gRPC sees the new
// connection. Records of closed connections stay until their number is reused or Prune()
// notices the fd was closed or now refers to another file (recorded inode), which bounds the
// stale records by the fd table.
//
// Ownership: the registry owns each record's pidfd and closes it when the record is replaced,
// pruned or the registry is destroyed. ProcessInfo values returned by Lookup borrow that pidfd:
// it stays open as long as the looked-up connection (and so the caller's call) is alive.
//
// Thread-safety: all methods may be called concurrently. Record and Prune are meant for the
// accept thread only (Prune relies on no connection being recorded concurrently).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string_view>

#include "agent/attestor/process_info.h"
#include "common/mutex.h"

namespace spinel::agent {

class PeerRegistry {
 public:
  PeerRegistry() = default;
  ~PeerRegistry();
  PeerRegistry(const PeerRegistry&) = delete;
  PeerRegistry& operator=(const PeerRegistry&) = delete;

  // Records the peer `process` of connection fd `fd` (whose socket inode is `inode`), replacing
  // (and closing the pidfd of) any earlier record under that number. Takes ownership of
  // process.pidfd.
  void Record(int fd, uint64_t inode, ProcessInfo process);
  // The peer process for a gRPC peer string "fd:N"; nullopt when `peer` has another form or
  // nothing is recorded under N.
  std::optional<ProcessInfo> Lookup(std::string_view peer) const;
  std::optional<ProcessInfo> LookupFd(int fd) const;
  // Drops the record of `fd` (closing its pidfd), e.g. when handing it to gRPC failed.
  void Remove(int fd);
  // Drops records whose fd is closed or refers to another file than the recorded socket.
  // Returns how many were dropped.
  size_t Prune();
  size_t size() const;

  // Parses "fd:N" (N a non-negative decimal int); nullopt otherwise.
  static std::optional<int> ParsePeer(std::string_view peer);

 private:
  struct Entry {
    uint64_t inode = 0;
    ProcessInfo process;
  };
  static void CloseEntry(Entry& entry);

  mutable common::Mutex mutex_;
  std::map<int, Entry> records_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace spinel::agent
