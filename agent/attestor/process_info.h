// ProcessInfo: the process on the other end of a Workload API connection, as the socket
// listener records it right after accept() (socket_listener.h) and as workload attestation
// (workload_attestor.h) reads it. One type from the socket to the attestors.
//
// Ownership: pidfd is owned by whoever recorded the connection (the PeerRegistry) and only
// borrowed by every copy; it stays open while the connection, and so any call on it, is alive.
// Thread-safety: a plain value.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace spinel::agent {

struct ProcessInfo {
  pid_t pid = 0;  // SO_PEERCRED: the process that called connect()
  uid_t uid = 0;  // SO_PEERCRED: its effective uid at connect() time
  gid_t gid = 0;  // SO_PEERCRED: its effective gid at connect() time
  // /proc/<pid>/stat field 22 (clock ticks after boot), read through ProcFs right after
  // SO_PEERCRED; nullopt when it could not be read then (attestation reads it itself). Lets
  // attestation detect a reused pid.
  std::optional<uint64_t> start_time = std::nullopt;
  // A pidfd for the process (SO_PEERPIDFD, or pidfd_open right after accept), or -1 when the
  // kernel offers neither. Borrowed (see above).
  int pidfd = -1;
};

}  // namespace spinel::agent
