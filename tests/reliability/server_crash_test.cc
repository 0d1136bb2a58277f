// Fault: the real spinel-server killed with SIGKILL in the middle of a concurrent stream of
// writes (operators creating entries from two threads through the admin CLI) and SVID signings
// (a real spinel-agent renewing 16 short-lived (30s) SVIDs and signing every new entry), then
// started again on the same data directory. Proves:
//   - every acknowledged entry create (CLI exit 0) is there after the restart, exactly once;
//   - no serial number was issued twice: the audit log's x509_svid.issued serials are unique,
//     and every SVID a workload received (three `api watch` streams, before and after the
//     crash) has an audited serial naming the same SPIFFE ID, and no serial names two SVIDs;
//   - no workload ever received an expired SVID;
//   - the audit chain verifies, its sequence numbers are contiguous (not gone backwards);
//   - CA keys and bundles are intact: every trust domain's authorities and bundle unchanged;
//   - the agent reconnects without a new token, picks up the entries created around the crash
//     and rotation resumes on the same open streams.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "tests/reliability/fault_util.h"

using nlohmann::json;
using spinel::testing::AgentProcess;
using spinel::testing::ChildProcess;
using spinel::testing::CommandResult;
using spinel::testing::ParseJsonOutput;
using spinel::testing::ServerProcess;
using spinel::testing::TempDir;

namespace {

constexpr int kStaticUids[] = {4201, 4202};
constexpr int kCreatedUid = 4203;
constexpr int kStaticEntriesPerUid = 8;
constexpr char kZoneTd[] = "spiffe://inference.ai.example.org";
const std::vector<std::string> kTrustDomains = {"control.spinel.test", "inference.ai.example.org",
                                                "training.ai.example.org",
                                                "retrieval.ai.example.org", "tools.ai.example.org"};

// Authorities (localauthority show) and bundle (bundle show) of every trust domain.
std::map<std::string, std::string> CaState(const ServerProcess& server) {
  std::map<std::string, std::string> state;
  for (const std::string& td : kTrustDomains) {
    state["authorities " + td] =
        ParseJsonOutput(server.Cli("localauthority show --output json --trust-domain " + td))
            .dump();
    CommandResult bundle = server.Cli("bundle show --trust-domain " + td);
    REQUIRE_MESSAGE(bundle.exit_code == 0, bundle.Describe());
    state["bundle " + td] = bundle.out;
  }
  return state;
}

// Operators creating entries from several threads; records which creates were acknowledged.
class EntryWriters {
 public:
  EntryWriters(const ServerProcess& server, std::string parent)
      : server_(server), parent_(std::move(parent)) {}
  ~EntryWriters() { Stop(); }

  void Start(int threads) {
    for (int t = 0; t < threads; ++t) threads_.emplace_back([this, t] { Loop(t); });
  }
  void Stop() {
    stop_ = true;
    for (std::thread& thread : threads_) thread.join();
    threads_.clear();
  }
  // Creates one entry on the calling thread; true when acknowledged.
  bool CreateOne(const std::string& name) {
    const std::string id = std::string(kZoneTd) + "/crash/" + name;
    CommandResult created = spinel::testing::ServerCliQuiet(
        server_, "entry create --spiffe-id " + id + " --parent-id " + parent_ +
                     " --selector unix:uid:" + std::to_string(kCreatedUid) +
                     " --x509-ttl 30s --output json");
    spinel::common::MutexLock lock(mu_);
    (created.exit_code == 0 ? acked_ : failed_).push_back(id);
    if (created.exit_code != 0) last_error_ = created.err;
    return created.exit_code == 0;
  }
  size_t acked() {
    spinel::common::MutexLock lock(mu_);
    return acked_.size();
  }
  size_t failed() {
    spinel::common::MutexLock lock(mu_);
    return failed_.size();
  }
  std::vector<std::string> AckedIds() {
    spinel::common::MutexLock lock(mu_);
    return acked_;
  }
  std::string last_error() {
    spinel::common::MutexLock lock(mu_);
    return last_error_;
  }

 private:
  void Loop(int thread) {
    for (int i = 0; !stop_; ++i) CreateOne("w" + std::to_string(thread) + "-" + std::to_string(i));
  }

  const ServerProcess& server_;
  const std::string parent_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  spinel::common::Mutex mu_;
  std::vector<std::string> acked_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> failed_ ABSL_GUARDED_BY(mu_);
  std::string last_error_ ABSL_GUARDED_BY(mu_);
};

// True when the last message of the watch has every ID of `ids` and arrived at or after `since`.
bool LatestHasAll(const std::string& watch_log, const std::vector<std::string>& ids,
                  int64_t since) {
  const std::vector<json> messages = spinel::testing::WatchMessages(watch_log);
  if (messages.empty()) return false;
  const json& last = messages.back();
  if (spinel::testing::ParseRfc3339(last["received_at"]) < since) return false;
  std::set<std::string> have;
  for (const json& svid : last["svids"]) have.insert(svid.value("spiffe_id", ""));
  for (const std::string& id : ids) {
    if (have.count(id) == 0) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("fault: server kill -9 during concurrent entry creates and SVID signings") {
  TempDir dir;
  ServerProcess server(dir);
  auto [token, agent_id] = spinel::testing::StartServerForAgent(dir, server);
  std::map<int, std::vector<std::string>> static_ids;
  for (int uid : kStaticUids) {
    for (int i = 0; i < kStaticEntriesPerUid; ++i) {
      const std::string id =
          std::string(kZoneTd) + "/static/u" + std::to_string(uid) + "-" + std::to_string(i);
      spinel::testing::Register(server, id, agent_id, uid, "--x509-ttl 30s");
      static_ids[uid].push_back(id);
    }
  }
  // The created entries' uid has one entry from the start: a synced agent refuses a stream
  // from a caller matching no entry.
  spinel::testing::Register(server, std::string(kZoneTd) + "/crash/seed", agent_id, kCreatedUid,
                            "--x509-ttl 30s");
  AgentProcess agent(dir, server);
  agent.Start(token);

  std::map<int, std::string> watch_logs;
  std::vector<std::unique_ptr<ChildProcess>> watches;
  for (int uid : {kStaticUids[0], kStaticUids[1], kCreatedUid}) {
    watch_logs[uid] = dir.File("watch-" + std::to_string(uid) + ".log");
    watches.push_back(std::make_unique<ChildProcess>());
    watches.back()->Start(AgentProcess::AsUid(uid, {agent.binary(), "api", "watch", "--socket",
                                                    agent.socket_path(), "--output", "json"}),
                          watch_logs[uid]);
  }
  for (int uid : kStaticUids) {
    REQUIRE_MESSAGE(
        spinel::testing::WaitFor([&] { return LatestHasAll(watch_logs[uid], static_ids[uid], 0); },
                                 std::chrono::seconds(60)),
        spinel::testing::ReadWholeFile(watch_logs[uid]) << agent.Log());
  }
  const std::map<std::string, std::string> ca_before = CaState(server);
  const json agents_before = ParseJsonOutput(server.Cli("agent list --output json"));

  // --- the crash, in the middle of writes and signings ---------------------------------------
  EntryWriters writers(server, agent_id);
  writers.Start(2);
  REQUIRE_MESSAGE(
      spinel::testing::WaitFor([&] { return writers.acked() >= 20; }, std::chrono::seconds(60)),
      "acked " << writers.acked() << " failed " << writers.failed() << ": "
               << writers.last_error());
  const size_t issued_before_crash =
      spinel::testing::AuditEvents(server, "x509_svid.issued").size();
  server.Kill(SIGKILL);
  const size_t failed_at_crash = writers.failed();
  // The writers keep trying against the dead server until both have seen it refuse them.
  CHECK(spinel::testing::WaitFor([&] { return writers.failed() >= failed_at_crash + 2; },
                                 std::chrono::seconds(30)));
  writers.Stop();
  CHECK(agent.Running());
  for (auto& watch : watches) CHECK(watch->Running());

  server.Start();
  const int64_t back_at = spinel::testing::NowUnix();
  for (int i = 0; i < 5; ++i) CHECK(writers.CreateOne("after-" + std::to_string(i)));
  const std::vector<std::string> acked = writers.AckedIds();

  // The agent reconnects, gets the entries created around the crash and signs them; rotation
  // resumes on the streams that stayed open.
  CHECK_MESSAGE(spinel::testing::WaitFor(
                    [&] { return LatestHasAll(watch_logs[kCreatedUid], acked, back_at); },
                    std::chrono::seconds(60)),
                agent.Log());
  for (int uid : kStaticUids) {
    CHECK(spinel::testing::WaitFor(
        [&] { return LatestHasAll(watch_logs[uid], static_ids[uid], back_at + 10); },
        std::chrono::seconds(60)));
  }
  for (auto& watch : watches) CHECK(watch->Running());

  // --- every acknowledged write is there, exactly once ------------------------------------------
  json entries = ParseJsonOutput(server.Cli("entry show --output json"))["entries"];
  std::multiset<std::string> stored;
  for (const json& entry : entries) stored.insert(entry["spiffe_id"].get<std::string>());
  for (const std::string& id : acked) CHECK_MESSAGE(stored.count(id) == 1, id);
  for (const auto& [uid, ids] : static_ids) {
    for (const std::string& id : ids) CHECK(stored.count(id) == 1);
  }

  // --- serials: unique in the audit log, and every SVID handed out is audited ------------------
  // What the workloads received first, then the audit log: an SVID is audited before it is sent.
  std::map<int, std::vector<json>> received_by_uid;
  for (const auto& [uid, log] : watch_logs)
    received_by_uid[uid] = spinel::testing::WatchMessages(log);
  size_t issued_events = 0;
  const std::map<std::string, std::string> audited =
      spinel::testing::IssuedSerials(server, &issued_events);
  CHECK(issued_events > issued_before_crash);                   // signing resumed after the restart
  std::map<std::string, std::pair<std::string, int64_t>> seen;  // serial -> (ID, notAfter)
  size_t messages = 0;
  for (const auto& [uid, received] : received_by_uid) {
    messages += received.size();
    const auto& stream_uid = uid;  // INFO's lambda cannot name a binding in clang 14
    for (const spinel::testing::WatchedSvid& svid : spinel::testing::WatchedSvids(received)) {
      INFO("uid " << stream_uid << " serial " << svid.serial << " " << svid.spiffe_id);
      CHECK(svid.received_at <= svid.expires_at);  // never an expired SVID
      auto audited_at = audited.find(svid.serial);
      REQUIRE(audited_at != audited.end());
      CHECK(audited_at->second == svid.spiffe_id);
      auto [at, fresh] = seen.emplace(svid.serial, std::make_pair(svid.spiffe_id, svid.expires_at));
      if (!fresh) CHECK(at->second == std::make_pair(svid.spiffe_id, svid.expires_at));
    }
  }

  // --- audit chain, CA keys and bundles, the agent ---------------------------------------------
  const std::vector<json> events = spinel::testing::AuditEvents(server);
  for (size_t i = 0; i < events.size(); ++i) CHECK(events[i]["sequence"] == i + 1);
  CommandResult verified = server.Cli("audit verify");
  CHECK_MESSAGE(verified.exit_code == 0, verified.Describe());
  CHECK(CaState(server) == ca_before);
  const json agents_after = ParseJsonOutput(server.Cli("agent list --output json"));
  REQUIRE(agents_after["agents"].size() == 1);  // the same agent, no new attestation
  CHECK(agents_after["agents"][0]["spiffe_id"] == agents_before["agents"][0]["spiffe_id"]);

  MESSAGE("server kill -9: " << acked.size() << " acknowledged creates checked ("
                             << writers.failed() << " refused while down), " << issued_events
                             << " audited serials unique, " << seen.size()
                             << " SVIDs received checked in " << messages << " messages");
}
