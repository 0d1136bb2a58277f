#include "agent/workload_api/socket_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/log.h"
#include "common/strings.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  // Linux >= 6.5
#endif

namespace spinel::agent {
namespace {

using common::StrCat;

std::string Errno(int error) { return std::strerror(error); }

absl::Status SysError(std::string_view what, const std::string& path, int error) {
  return absl::InternalError(StrCat(what, " ", common::Quote(path), ": ", Errno(error)));
}

absl::StatusOr<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        StrCat("workload API socket path must be absolute: ", common::Quote(path)));
  }
  if (path.size() >= sizeof(addr.sun_path) || path.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(StrCat("workload API socket path too long (max ",
                                             sizeof(addr.sun_path) - 1,
                                             " bytes): ", common::Quote(path)));
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// Removes a socket file left by an earlier run. Refuses a live socket and non-socket files.
absl::Status RemoveStaleSocket(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::OkStatus();
    return SysError("stat", path, errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return absl::FailedPreconditionError(
        StrCat(common::Quote(path), " exists and is not a socket; refusing to replace it"));
  }
  int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (probe < 0) return SysError("socket for", path, errno);
  const bool live = ::connect(probe, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(probe);
  if (live) {
    return absl::FailedPreconditionError(
        StrCat("another process is serving on ", common::Quote(path)));
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return SysError("unlink", path, errno);
  return absl::OkStatus();
}

absl::StatusOr<int> BindAndListen(const SocketListenerOptions& options, const sockaddr_un& addr) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return SysError("socket for", options.path, errno);
  absl::Status status;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    status = SysError("bind", options.path, errno);
  } else if (::chmod(options.path.c_str(), options.mode) != 0) {
    status = SysError("chmod", options.path, errno);
  } else if (::listen(fd, options.backlog) != 0) {
    status = SysError("listen on", options.path, errno);
  }
  if (status.ok()) return fd;
  ::close(fd);
  return status;
}

// SO_PEERPIDFD, else pidfd_open(pid); -1 when the kernel offers neither.
int OpenPeerPidfd(int fd, pid_t pid) {
  int pidfd = -1;
  socklen_t len = sizeof(pidfd);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0 && pidfd >= 0) return pidfd;
#ifdef SYS_pidfd_open
  long opened = ::syscall(SYS_pidfd_open, pid, 0);  // O_CLOEXEC is implied
  if (opened >= 0) return static_cast<int>(opened);
#endif
  return -1;  // ENOPROTOOPT / ENOSYS / EINVAL / ESRCH: attestation falls back to start time
}

}  // namespace

absl::StatusOr<std::unique_ptr<SocketListener>> SocketListener::Create(
    SocketListenerOptions options, PeerRegistry& registry) {
  absl::StatusOr<sockaddr_un> addr = UnixAddress(options.path);
  if (!addr.ok()) return addr.status();
  if (absl::Status s = RemoveStaleSocket(options.path, *addr); !s.ok()) return s;
  absl::StatusOr<int> listen_fd = BindAndListen(options, *addr);
  if (!listen_fd.ok()) return listen_fd.status();
  int wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  int reserve_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (wake_fd < 0 || reserve_fd < 0) {
    absl::Status status = SysError("eventfd/open /dev/null for", options.path, errno);
    for (int fd : {*listen_fd, wake_fd, reserve_fd}) {
      if (fd >= 0) ::close(fd);
    }
    ::unlink(options.path.c_str());
    return status;
  }
  return std::unique_ptr<SocketListener>(
      new SocketListener(std::move(options), registry, *listen_fd, wake_fd, reserve_fd));
}

SocketListener::SocketListener(SocketListenerOptions options, PeerRegistry& registry, int listen_fd,
                               int wake_fd, int reserve_fd)
    : options_(std::move(options)),
      registry_(registry),
      listen_fd_(listen_fd),
      wake_fd_(wake_fd),
      reserve_fd_(reserve_fd) {}

SocketListener::~SocketListener() { Stop(); }

absl::Status SocketListener::Start(std::function<void(int fd)> on_connection) {
  if (started_ || stopped_) {
    return absl::FailedPreconditionError("workload API listener already started or stopped");
  }
  started_ = true;
  on_connection_ = std::move(on_connection);
  thread_ = std::thread([this] { AcceptLoop(); });
  LOG_INFO("workload API listening",
           {{"socket", options_.path}, {"SPIFFE_ENDPOINT_SOCKET", "unix://" + options_.path}});
  return absl::OkStatus();
}

void SocketListener::Stop() {
  if (stopped_) return;
  stopped_ = true;
  uint64_t one = 1;
  if (::write(wake_fd_, &one, sizeof(one)) < 0) {
    LOG_WARN("workload API listener: wake-up write failed", {{"error", Errno(errno)}});
  }
  if (thread_.joinable()) thread_.join();
  for (int* fd : {&listen_fd_, &wake_fd_, &reserve_fd_}) {
    if (*fd >= 0) ::close(*fd);
    *fd = -1;
  }
  ::unlink(options_.path.c_str());
}

bool SocketListener::WaitForStop(std::chrono::milliseconds timeout) {
  pollfd pfd{.fd = wake_fd_, .events = POLLIN, .revents = 0};
  return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
}

void SocketListener::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{.fd = listen_fd_, .events = POLLIN, .revents = 0},
                     {.fd = wake_fd_, .events = POLLIN, .revents = 0}};
    int n = ::poll(fds, 2, static_cast<int>(options_.prune_interval.count()));
    if (n < 0 && errno != EINTR) {
      LOG_ERROR("workload API listener: poll failed", {{"error", Errno(errno)}});
      if (WaitForStop(options_.error_backoff)) return;
      continue;
    }
    if (fds[1].revents != 0) return;
    if (n == 0) {
      registry_.Prune();
      continue;
    }
    if (fds[0].revents == 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (HandleAcceptError(errno) && WaitForStop(options_.error_backoff)) return;
      continue;
    }
    HandleConnection(fd);
  }
}

bool SocketListener::HandleAcceptError(int error) {
  if (error == EINTR || error == EAGAIN || error == ECONNABORTED || error == EPROTO) return false;
  const bool out_of_fds = error == EMFILE || error == ENFILE;
  if (out_of_fds) RefuseOne();
  auto now = std::chrono::steady_clock::now();
  if (now - last_error_log_ >= std::chrono::seconds(1)) {
    last_error_log_ = now;
    LOG_WARN(out_of_fds ? "workload API: out of file descriptors, refusing connections"
                        : "workload API: accept failed",
             {{"error", Errno(error)}, {"refused_total", std::to_string(refused_.load())}});
  }
  return true;
}

void SocketListener::RefuseOne() {
  if (reserve_fd_ < 0) return;
  ::close(reserve_fd_);
  int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) {
    ++refused_;   // counted before the close, so a client that sees EOF sees the count
    ::close(fd);  // the client sees the connection closed and retries later
  }
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // -1 until descriptors free up
}

void SocketListener::HandleConnection(int fd) {
  if (reserve_fd_ < 0) reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  ucred cred{};
  socklen_t len = sizeof(cred);
  struct stat st {};
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof(cred) ||
      ::fstat(fd, &st) != 0) {
    LOG_WARN("workload API: cannot read peer credentials; closing connection",
             {{"error", Errno(errno)}});
    ::close(fd);
    return;
  }
  ProcessInfo process{.pid = cred.pid, .uid = cred.uid, .gid = cred.gid};
  process.pidfd = OpenPeerPidfd(fd, cred.pid);
  // Unreadable (e.g. the process already exited): attestation reads it itself and fails then.
  absl::StatusOr<ProcStat> stat = options_.proc.ReadStat(cred.pid);
  if (stat.ok()) process.start_time = stat->start_time;
  registry_.Record(fd, static_cast<uint64_t>(st.st_ino), process);
  if (++accepted_ % 256 == 0) registry_.Prune();
  LOG_DEBUG("workload API connection", {{"fd", std::to_string(fd)},
                                        {"pid", std::to_string(cred.pid)},
                                        {"uid", std::to_string(cred.uid)}});
  on_connection_(fd);  // takes ownership of fd
}

}  // namespace spinel::agent
