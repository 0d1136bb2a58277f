// SocketListener: the Workload API's Unix listening socket, owned by the agent (not by gRPC), so
// that the agent learns who connected before gRPC sees the connection.
//
// Create() prepares the socket file: a stale socket file left by an earlier run is removed (only
// a socket nobody answers on; a live socket or any other kind of file is refused), the socket
// is bound, chmod'ed to Options::mode and put in listening state.
//
// Socket mode: 0777 by default (0666 is equivalent for a socket: only write permission matters
// to connect()). Any local process, of any uid, may connect: that is the point of the Workload
// API, and it is safe because a caller receives only the identities its attested selectors
// (uid, gid, executable, container...) entitle it to; connecting proves nothing by itself.
// Operators who want to restrict who may even ask can put the socket in a directory with
// tighter permissions or pass a narrower mode.
//
// Start() runs the accept thread. For each connection it: accept4(SOCK_NONBLOCK|SOCK_CLOEXEC)
// (gRPC needs a non-blocking fd, a blocking one hangs clients); reads SO_PEERCRED (pid, uid,
// gid); takes a pidfd for the peer (SO_PEERPIDFD on Linux >= 6.5, which pins the connecting
// process itself; otherwise pidfd_open(pid) right away, Linux >= 5.3; neither is required:
// ENOPROTOOPT/ENOSYS/EINVAL just leave pidfd = -1); reads the process start time from
// /proc/<pid>/stat through SocketListenerOptions::proc (left unset when unreadable); records all of
// it as a ProcessInfo in the PeerRegistry under the fd number; and only then calls
// `on_connection(fd)` (which takes ownership of the fd, e.g. AddInsecureChannelFromFd). A
// connection whose credentials cannot be read is closed.
//
// Running out of file descriptors (EMFILE/ENFILE) does not stop the listener: it logs (at most
// once a second), refuses the pending connection cleanly (a reserved descriptor is released to
// accept it and close it, so the client sees the connection closed instead of hanging in the
// backlog), backs off briefly and keeps accepting.
//
// Stop() (also run by the destructor) wakes and joins the accept thread, closes the listening
// socket and removes the socket file. Stop the listener before shutting down the gRPC server
// it feeds. Thread-safety: Start/Stop from one owning thread; the counters from any thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "agent/attestor/proc_fs.h"
#include "agent/workload_api/peer_registry.h"

namespace spinel::agent {

struct SocketListenerOptions {
  std::string path;    // absolute path of the socket file (at most 107 bytes)
  mode_t mode = 0777;  // see "Socket mode" above
  int backlog = 1024;
  // Pause after an accept error such as EMFILE before trying again.
  std::chrono::milliseconds error_backoff{100};
  // Idle interval after which stale PeerRegistry records are pruned.
  std::chrono::milliseconds prune_interval{5000};
  // Where each peer's start time is read (/proc/<pid>/stat); tests point it at a fixture.
  ProcFs proc{};
};

class SocketListener {
 public:
  // Binds and listens (see above). Errors: InvalidArgument for a bad path; FailedPrecondition
  // when the path holds a live socket or a non-socket file; Internal for system call failures.
  // `registry` must outlive the listener.
  static absl::StatusOr<std::unique_ptr<SocketListener>> Create(SocketListenerOptions options,
                                                                PeerRegistry& registry);
  ~SocketListener();
  SocketListener(const SocketListener&) = delete;
  SocketListener& operator=(const SocketListener&) = delete;

  // Starts the accept thread. `on_connection` runs on that thread and owns the fd it is given.
  // FailedPrecondition when already started or stopped.
  absl::Status Start(std::function<void(int fd)> on_connection);
  // Idempotent. After it returns, on_connection is never called again.
  void Stop();

  const std::string& path() const { return options_.path; }
  uint64_t accepted() const { return accepted_.load(); }
  uint64_t refused() const { return refused_.load(); }

 private:
  SocketListener(SocketListenerOptions options, PeerRegistry& registry, int listen_fd, int wake_fd,
                 int reserve_fd);
  void AcceptLoop();
  // Handles one accept4() failure; true when the loop should back off before accepting again.
  bool HandleAcceptError(int error);
  void RefuseOne();
  void HandleConnection(int fd);
  // Waits up to `timeout` for Stop(); true when stopping.
  bool WaitForStop(std::chrono::milliseconds timeout);

  const SocketListenerOptions options_;
  PeerRegistry& registry_;
  int listen_fd_ = -1;
  int wake_fd_ = -1;     // eventfd written by Stop()
  int reserve_fd_ = -1;  // /dev/null, released to refuse a connection under EMFILE
  std::function<void(int)> on_connection_;
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> refused_{0};
  std::chrono::steady_clock::time_point last_error_log_{};
};

}  // namespace spinel::agent
