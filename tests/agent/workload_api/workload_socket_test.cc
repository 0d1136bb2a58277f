// The agent-owned socket: PeerRegistry, SocketListener (real sockets), the start-up self-test,
// robustness (garbage, oversized requests, descriptor exhaustion) and many concurrent streams.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <future>

#include "agent/workload_api/peer_registry.h"
#include "agent/workload_api/socket_listener.h"
#include "tests/agent/attestor/proc_fixture.h"
#include "tests/agent/workload_api/workload_api_fixture.h"

namespace spinel::testing {
namespace {

constexpr char kModelId[] = "spiffe://inference.example.org/model-server";

int ConnectUnix(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

TEST_CASE("WorkloadApi PeerRegistry: parses fd peers and replaces reused numbers") {
  CHECK(agent::PeerRegistry::ParsePeer("fd:12") == 12);
  CHECK(agent::PeerRegistry::ParsePeer("fd:0") == 0);
  for (const char* bad : {"unix:", "fd:", "fd:-1", "fd:1x", "ipv4:127.0.0.1:1", "fd:99999999999"}) {
    CHECK_FALSE(agent::PeerRegistry::ParsePeer(bad).has_value());
  }
  agent::PeerRegistry registry;
  int pipe_fds[2];
  REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
  registry.Record(7, 1, {.pid = 10, .uid = 1, .gid = 2, .pidfd = pipe_fds[0]});
  CHECK(registry.Lookup("fd:7")->pid == 10);
  registry.Record(7, 2, {.pid = 11, .uid = 3, .gid = 4});  // closes the old record's pidfd
  CHECK(::fcntl(pipe_fds[0], F_GETFD) == -1);
  CHECK(registry.Lookup("fd:7")->uid == 3);
  CHECK_FALSE(registry.Lookup("fd:8").has_value());
  CHECK_FALSE(registry.Lookup("unix:").has_value());
  registry.Remove(7);
  CHECK(registry.size() == 0);
  ::close(pipe_fds[1]);
}

TEST_CASE("WorkloadApi SocketListener: records the peer before handing the fd over") {
  TempDir dir;
  agent::PeerRegistry registry;
  const std::string path = dir.File("w.sock");
  auto listener = agent::SocketListener::Create({.path = path}, registry);
  REQUIRE_MESSAGE(listener.ok(), listener.status().ToString());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 0777) == 0777);

  std::promise<std::optional<agent::ProcessInfo>> seen;
  std::promise<int> flags;
  REQUIRE((*listener)
              ->Start([&](int fd) {
                flags.set_value(::fcntl(fd, F_GETFL));
                seen.set_value(registry.LookupFd(fd));
                ::close(fd);
              })
              .ok());
  int client = ConnectUnix(path);
  auto credentials = seen.get_future().get();
  REQUIRE(credentials.has_value());
  CHECK(credentials->pid == ::getpid());
  CHECK(credentials->uid == ::getuid());
  CHECK(credentials->gid == ::getgid());
  CHECK(credentials->pidfd >= 0);  // SO_PEERPIDFD or pidfd_open on this kernel
  CHECK(credentials->start_time == agent::ProcFs().ReadStat(::getpid())->start_time);
  CHECK((flags.get_future().get() & O_NONBLOCK) != 0);
  ::close(client);
  (*listener)->Stop();
  CHECK_FALSE(std::filesystem::exists(path));
  CHECK(registry.Prune() == 1);  // the fd was closed: its record goes
}

// The ProcessInfo the listener records for one connection of this process, /proc read from `proc`.
std::optional<agent::ProcessInfo> RecordedPeer(agent::ProcFs proc) {
  TempDir dir;
  agent::PeerRegistry registry;
  const std::string path = dir.File("w.sock");
  auto listener = agent::SocketListener::Create({.path = path, .proc = std::move(proc)}, registry);
  REQUIRE_MESSAGE(listener.ok(), listener.status().ToString());
  std::promise<std::optional<agent::ProcessInfo>> seen;
  REQUIRE((*listener)
              ->Start([&](int fd) {
                seen.set_value(registry.LookupFd(fd));
                ::close(fd);
              })
              .ok());
  int client = ConnectUnix(path);
  std::optional<agent::ProcessInfo> recorded = seen.get_future().get();
  ::close(client);
  return recorded;
}

TEST_CASE("WorkloadApi SocketListener: reads the peer's start time through its ProcFs") {
  ProcFixture fx;
  fx.AddProcess(::getpid(), 424242, "bin");
  auto recorded = RecordedPeer(fx.Proc());
  REQUIRE(recorded.has_value());
  CHECK(recorded->pid == ::getpid());
  CHECK(recorded->start_time == 424242u);

  ProcFixture empty;  // no entry for the peer: recorded without a start time, not refused
  auto unreadable = RecordedPeer(empty.Proc());
  REQUIRE(unreadable.has_value());
  CHECK(unreadable->pid == ::getpid());
  CHECK_FALSE(unreadable->start_time.has_value());
}

TEST_CASE("WorkloadApi SocketListener: stale socket files go, live sockets and files stay") {
  TempDir dir;
  agent::PeerRegistry registry;
  const std::string path = dir.File("w.sock");
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0);
    ::close(fd);  // a stale socket file, as after a crash
  }
  auto first = agent::SocketListener::Create({.path = path}, registry);
  REQUIRE_MESSAGE(first.ok(), first.status().ToString());
  auto second = agent::SocketListener::Create({.path = path}, registry);
  CHECK(second.status().code() == absl::StatusCode::kFailedPrecondition);
  dir.Write("plain", "data");
  auto file = agent::SocketListener::Create({.path = dir.File("plain")}, registry);
  CHECK(file.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(dir.Read("plain") == "data");
  auto relative = agent::SocketListener::Create({.path = "rel.sock"}, registry);
  CHECK(relative.status().code() == absl::StatusCode::kInvalidArgument);
  auto too_long = agent::SocketListener::Create({.path = "/" + std::string(200, 'x')}, registry);
  CHECK(too_long.status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("WorkloadApi SocketListener: out of descriptors refuses cleanly and recovers") {
  TempDir dir;
  agent::PeerRegistry registry;
  const std::string path = dir.File("w.sock");
  auto listener = agent::SocketListener::Create({.path = path}, registry);
  REQUIRE(listener.ok());
  std::atomic<int> handed{0};
  REQUIRE((*listener)
              ->Start([&](int fd) {
                ++handed;
                ::close(fd);
              })
              .ok());
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(client >= 0);
  std::vector<int> fillers;  // fill every free descriptor below client, so none is left
  for (;;) {
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    if (fd > client) {
      ::close(fd);
      break;
    }
    fillers.push_back(fd);
  }
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(client + 1);  // every further descriptor fails
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  const int connected = ::connect(client, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  char byte = 0;
  timeval tv{.tv_sec = 5, .tv_usec = 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const ssize_t got = ::read(client, &byte, 1);  // the listener closes the refused connection
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  CHECK(connected == 0);
  CHECK(got == 0);
  CHECK((*listener)->refused() >= 1);
  CHECK(handed.load() == 0);
  ::close(client);
  for (int fd : fillers) ::close(fd);
  int again = ConnectUnix(path);  // the listener is still alive
  for (int i = 0; i < 200 && handed.load() == 0; ++i) std::this_thread::sleep_for(10ms);
  CHECK(handed.load() == 1);
  ::close(again);
}

TEST_CASE("Workload API: the start-up self-test passes and garbage does not hurt") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  world.Issue("e1");
  const size_t before = world.server_->peers().size();
  CHECK(before >= 1);  // the self-test's own connection was recorded

  int raw = ConnectUnix(world.socket_path);  // not HTTP/2 at all
  const std::string junk(4096, '\x17');
  CHECK(::write(raw, junk.data(), junk.size()) > 0);
  ::close(raw);

  auto channel =
      grpc::CreateChannel("unix://" + world.socket_path, grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  for (const char* method : {"/SpiffeWorkloadAPI/FetchJWTSVID", "/SpiffeWorkloadAPI/Nope",
                             "/spinel.agent.WorkloadApiSelfTest/Probe"}) {
    grpc::ClientContext context;
    WorkloadApiWorld::AddHeader(context);
    context.set_deadline(std::chrono::system_clock::now() + 5s);
    grpc::Slice slice(std::string("\xff\xff\xff\xff garbage"));
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                      [&done](grpc::Status s) { done.set_value(s); });
    grpc::Status status = done.get_future().get();
    CHECK_FALSE(status.ok());
    CHECK(status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED);
  }
  ::JWTSVIDResponse response;
  grpc::Status oversized = world.FetchJwt({std::string(512 * 1024, 'a')}, &response);
  CHECK(oversized.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);

  auto stream = WorkloadApiWorld::X509Stream(*world.Stub());  // still serving
  REQUIRE(stream->WaitForCount(1));
}

TEST_CASE("Workload API: 200 concurrent streams all get their first message") {
  WorkloadApiWorld world;
  world.PutEntry("e1", kModelId, {UidSelector(world.uid)});
  world.Sync();
  world.Issue("e1");
  std::vector<std::unique_ptr<::SpiffeWorkloadAPI::Stub>> stubs;
  for (int i = 0; i < 4; ++i) stubs.push_back(world.Stub());
  std::vector<std::unique_ptr<StreamCollector<::X509SVIDResponse>>> streams;
  for (int i = 0; i < 200; ++i) streams.push_back(WorkloadApiWorld::X509Stream(*stubs[i % 4]));
  int served = 0;
  for (auto& stream : streams) served += stream->WaitForCount(1, 20s) ? 1 : 0;
  CHECK(served == 200);
  CHECK(world.server_->service().open_streams() == 200);

  world.clock.Advance(1min);
  world.Issue("e1");  // one rotation reaches every stream, once
  served = 0;
  for (auto& stream : streams) served += stream->WaitForCount(2, 20s) ? 1 : 0;
  CHECK(served == 200);
  std::this_thread::sleep_for(200ms);
  size_t extra = 0;
  for (auto& stream : streams) extra += stream->count() - 2;
  CHECK(extra == 0);
  streams.clear();
  for (int i = 0; i < 200 && world.server_->service().open_streams() > 0; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(world.server_->service().open_streams() == 0);
}

}  // namespace
}  // namespace spinel::testing
