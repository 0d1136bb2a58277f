// Faults of load on the real spinel-agent's Workload API socket, from raw gRPC clients in this
// process (the generated SpiffeWorkloadAPI stub on unix:PATH, `workload.spiffe.io: true`):
//   - 1,000 concurrent FetchX509SVID streams, each on its own connection, held for 60 s while
//     10s SVIDs rotate: zero stream errors, every stream gets every rotation, and no message
//     ever carries an SVID whose leaf notAfter is at or before the moment it was received;
//   - descriptor exhaustion: the agent's RLIMIT_NOFILE is lowered (prlimit(2)) to a few more
//     than it has open and far more connections are opened than it can hold: it refuses the
//     excess cleanly (the client sees the connection closed), stays up, and serves again once
//     the connections close.
// This process runs as one uid (root), so one entry (unix:uid:0) serves every stream.
#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "tests/reliability/fault_util.h"

using spinel::testing::AgentProcess;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;

namespace {

constexpr char kId[] = "spiffe://inference.ai.example.org/load/streams";

// What every stream received, checked as it arrives.
class Tally {
 public:
  // One message received at `at`; returns its leaf serial ("" when unusable).
  std::string Record(const X509SVIDResponse& response, std::chrono::system_clock::time_point at) {
    spinel::common::MutexLock lock(mu_);
    ++messages_;
    if (response.svids_size() != 1) {
      ++bad_;
      return "";
    }
    const X509SVID& svid = response.svids(0);
    auto cached = leaves_.find(svid.x509_svid());
    if (cached == leaves_.end()) {  // parse each certificate once, not once per stream
      cached = leaves_.emplace(svid.x509_svid(), spinel::testing::LeafOf(svid.x509_svid())).first;
    }
    const spinel::testing::LeafFacts& leaf = cached->second;
    if (leaf.serial.empty() || leaf.spiffe_id != kId || svid.spiffe_id() != kId) ++bad_;
    if (leaf.not_after <= at) ++expired_;
    return leaf.serial;
  }
  void Done(const grpc::Status& status, bool cancelled) {
    spinel::common::MutexLock lock(mu_);
    ++done_;
    if (!cancelled || status.error_code() != grpc::StatusCode::CANCELLED) {
      ++errors_;
      if (first_error_.empty())
        first_error_ = std::to_string(status.error_code()) + ": " + status.error_message();
    }
    cv_.NotifyAll();
  }
  bool WaitDone(size_t streams, std::chrono::seconds timeout) {
    spinel::common::MutexLock lock(mu_);
    return cv_.WaitFor(mu_, timeout,
                       [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return done_ >= streams; });
  }
  size_t messages() {
    spinel::common::MutexLock l(mu_);
    return messages_;
  }
  size_t expired() {
    spinel::common::MutexLock l(mu_);
    return expired_;
  }
  size_t bad() {
    spinel::common::MutexLock l(mu_);
    return bad_;
  }
  size_t errors() {
    spinel::common::MutexLock l(mu_);
    return errors_;
  }
  size_t done() {
    spinel::common::MutexLock l(mu_);
    return done_;
  }
  size_t certificates() {
    spinel::common::MutexLock l(mu_);
    return leaves_.size();
  }
  std::string first_error() {
    spinel::common::MutexLock l(mu_);
    return first_error_;
  }

 private:
  spinel::common::Mutex mu_;
  spinel::common::CondVar cv_;
  // chain DER -> leaf facts
  std::map<std::string, spinel::testing::LeafFacts> leaves_ ABSL_GUARDED_BY(mu_);
  size_t messages_ ABSL_GUARDED_BY(mu_) = 0;
  size_t expired_ ABSL_GUARDED_BY(mu_) = 0;
  size_t bad_ ABSL_GUARDED_BY(mu_) = 0;
  size_t errors_ ABSL_GUARDED_BY(mu_) = 0;
  size_t done_ ABSL_GUARDED_BY(mu_) = 0;
  std::string first_error_ ABSL_GUARDED_BY(mu_);
};

// One workload: its own connection and one FetchX509SVID stream, read until cancelled.
class Stream : public grpc::ClientReadReactor<X509SVIDResponse> {
 public:
  Stream(const std::string& socket_path, Tally& tally)
      : channel_(spinel::testing::WorkloadChannel(socket_path)),
        stub_(SpiffeWorkloadAPI::NewStub(channel_)),
        tally_(tally) {}

  void Begin() {
    spinel::testing::AddWorkloadHeader(context_);
    stub_->async()->FetchX509SVID(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }
  void Cancel() {
    cancelled_ = true;
    context_.TryCancel();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    const std::string serial = tally_.Record(response_, std::chrono::system_clock::now());
    {
      spinel::common::MutexLock lock(mu_);
      serials_.insert(serial);
    }
    StartRead(&response_);
  }
  void OnDone(const grpc::Status& status) override { tally_.Done(status, cancelled_); }
  size_t distinct_serials() {
    spinel::common::MutexLock lock(mu_);
    return serials_.size();
  }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<SpiffeWorkloadAPI::Stub> stub_;
  Tally& tally_;
  grpc::ClientContext context_;
  X509SVIDRequest request_;
  X509SVIDResponse response_;
  std::atomic<bool> cancelled_{false};
  spinel::common::Mutex mu_;
  std::set<std::string> serials_ ABSL_GUARDED_BY(mu_);
};

// One FetchX509SVID on a fresh connection: the status and, when OK, the first SVID's ID.
grpc::Status FetchOnce(const std::string& socket_path, std::string* spiffe_id) {
  auto stub = SpiffeWorkloadAPI::NewStub(spinel::testing::WorkloadChannel(socket_path));
  grpc::ClientContext context;
  spinel::testing::AddWorkloadHeader(context);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto reader = stub->FetchX509SVID(&context, X509SVIDRequest());
  X509SVIDResponse response;
  if (reader->Read(&response)) {
    *spiffe_id = response.svids_size() > 0 ? response.svids(0).spiffe_id() : "";
    context.TryCancel();
    reader->Finish();
    return grpc::Status::OK;
  }
  return reader->Finish();
}

// A server and an agent serving kId to this process (uid 0) with `ttl` SVIDs.
struct Node {
  explicit Node(const std::string& ttl) : server(dir) {
    server.Start();
    auto [token, agent_id] = spinel::testing::NewJoinToken(server);
    spinel::testing::Register(server, kId, agent_id, 0, "--x509-ttl " + ttl);
    agent = std::make_unique<AgentProcess>(dir, server);
    agent->Start(token);
    std::string id;
    REQUIRE_MESSAGE(spinel::testing::WaitFor(
                        [&] { return FetchOnce(agent->socket_path(), &id).ok() && id == kId; },
                        std::chrono::seconds(30)),
                    agent->Log());
  }
  TempDir dir;
  ServerProcess server;
  std::unique_ptr<AgentProcess> agent;
};

// A raw connection to the socket that sends nothing (holds a descriptor in the agent).
int ConnectRaw(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the agent closed the connection (a read returns EOF or an error, not EAGAIN).
bool ClosedByPeer(int fd) {
  char byte = 0;
  const ssize_t n = ::recv(fd, &byte, 1, MSG_DONTWAIT | MSG_PEEK);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

}  // namespace

TEST_CASE("fault: 1000 concurrent Workload API streams for 60s with 10s SVIDs") {
  constexpr size_t kStreams = 1000;
  // This process and the agent (which inherits the limit) hold a descriptor or two a stream.
  struct rlimit limit {};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  if (limit.rlim_max < 3 * kStreams) {  // root (CI) may raise the hard limit itself
    struct rlimit raised = limit;
    raised.rlim_max = 4 * kStreams;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  REQUIRE_MESSAGE(limit.rlim_max >= 3 * kStreams, "hard RLIMIT_NOFILE too low: " << limit.rlim_max);
  const rlim_t soft_before = limit.rlim_cur;
  limit.rlim_cur = limit.rlim_max;
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &limit) == 0);
  Node node("10s");
  Tally tally;
  std::vector<std::unique_ptr<Stream>> streams;
  for (size_t i = 0; i < kStreams; ++i) {
    streams.push_back(std::make_unique<Stream>(node.agent->socket_path(), tally));
    streams.back()->Begin();
  }
  REQUIRE_MESSAGE(
      spinel::testing::WaitFor(
          [&] {
            for (auto& s : streams) {
              if (s->distinct_serials() == 0) return false;
            }
            return true;
          },
          std::chrono::seconds(60)),
      "streams without a first SVID; errors " << tally.errors() << " " << tally.first_error());
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < until && tally.done() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  for (auto& stream : streams) stream->Cancel();
  REQUIRE_MESSAGE(tally.WaitDone(kStreams, std::chrono::seconds(30)),
                  tally.done() << " of " << kStreams << " streams ended");
  CHECK(node.agent->Running());

  size_t fewest = SIZE_MAX;
  for (auto& stream : streams) fewest = std::min(fewest, stream->distinct_serials());
  CHECK_MESSAGE(tally.errors() == 0, tally.first_error());
  CHECK(tally.expired() == 0);
  CHECK(tally.bad() == 0);
  CHECK(fewest >= 6);  // 60s of 10s SVIDs renewed at about half-life: every stream rotated
  MESSAGE("1000 streams: " << tally.messages() << " messages, " << tally.certificates()
                           << " distinct SVIDs (" << tally.certificates() - 1
                           << " rotations), fewest per stream " << fewest << ", " << tally.errors()
                           << " errors, " << tally.expired() << " expired");
  streams.clear();
  limit.rlim_cur = soft_before;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

TEST_CASE("fault: agent out of file descriptors refuses connections and recovers") {
  Node node("5m");
  const pid_t pid = node.agent->pid();
  const int open_before = spinel::testing::OpenDescriptors(pid);
  REQUIRE(open_before > 0);
  REQUIRE(spinel::testing::SetLimit(pid, RLIMIT_NOFILE, open_before + 24));

  constexpr int kConnections = 120;
  std::vector<int> held;
  for (int i = 0; i < kConnections; ++i) {
    const int fd = ConnectRaw(node.agent->socket_path());
    if (fd >= 0) held.push_back(fd);
  }
  REQUIRE(held.size() == static_cast<size_t>(kConnections));  // the backlog holds them all
  int refused = 0;
  CHECK_MESSAGE(spinel::testing::WaitFor(
                    [&] {
                      refused = 0;
                      for (int fd : held) refused += ClosedByPeer(fd) ? 1 : 0;
                      return refused >= static_cast<int>(held.size()) - 24;
                    },
                    std::chrono::seconds(30)),
                refused << " of " << held.size() << " refused");
  CHECK(node.agent->Running());
  std::string id;
  const grpc::Status while_full = FetchOnce(node.agent->socket_path(), &id);
  CHECK_MESSAGE((while_full.ok() || while_full.error_code() == grpc::StatusCode::UNAVAILABLE),
                while_full.error_code() << " " << while_full.error_message());
  CHECK(node.agent->Log().find("out of file descriptors") != std::string::npos);

  for (int fd : held) ::close(fd);
  CHECK_MESSAGE(spinel::testing::WaitFor(
                    [&] {
                      id.clear();
                      return FetchOnce(node.agent->socket_path(), &id).ok() && id == kId;
                    },
                    std::chrono::seconds(30)),
                node.agent->Log());
  CHECK(node.agent->Running());
  MESSAGE("descriptor exhaustion: " << refused << " of " << held.size()
                                    << " connections refused cleanly, agent served again");
}
