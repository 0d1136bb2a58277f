// Shared world for the Workload API tests: three zones (inference peers with retrieval;
// training peers with nobody), each a real test CA and a JWT key; a real IdentityCache filled
// through ApplySyncUpdate / StoreX509Svids; a TestJwtMinter; and a WorkloadApiServer on a real
// Unix socket in a temp dir. Callers are attested as unix:uid:<peer uid> and
// unix:gid:<peer gid> from the connection's real SO_PEERCRED.
#pragma once

#include <doctest/doctest.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/identity_cache.h"
#include "agent/workload_api/workload_api_server.h"
#include "common/bundle.h"
#include "common/clock.h"
#include "common/mutex.h"
#include "common/selector.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/temp_dir.h"
#include "tests/fakes/test_ca.h"
#include "tests/fakes/test_jwt_minter.h"
#include "tests/fakes/test_wit_minter.h"
#include "workload.grpc.pb.h"

namespace spinel::testing {

using namespace std::chrono_literals;

inline std::string UidSelector(uid_t uid) { return "uid:" + std::to_string(uid); }

struct TestZone {
  std::string name;
  TestCa root;
  std::optional<TestCa> intermediate;  // signs the SVIDs when set, else the root does
  common::PrivateKey jwt_key;
  std::string kid;
  std::vector<std::string> peers;
  uint64_t sequence = 1;
  // Foreign trust domains this zone federates with (policy document "federates_with").
  std::vector<std::string> federates_with;
  // The WIT-SVID signing key (its own key pair, kid "wit-<name>"), set by MakeZone.
  std::shared_ptr<const common::PrivateKey> wit_key;
  std::string wit_kid;

  const TestCa& issuer() const { return intermediate ? *intermediate : root; }

  common::Bundle MakeBundle() const {
    common::Bundle bundle;
    bundle.trust_domain = root.td();
    bundle.x509_authorities = {root.cert()};
    bundle.jwt_authorities.emplace(kid, *jwt_key.Public());
    if (wit_key) bundle.wit_authorities.emplace(wit_kid, *wit_key->Public());
    bundle.sequence = sequence;
    return bundle;
  }
};

// Collects the messages of one server stream (client callback API). Destruction cancels the
// call and waits for it to end.
template <typename Response>
class StreamCollector final : public grpc::ClientReadReactor<Response> {
 public:
  using Starter = std::function<void(grpc::ClientContext*, grpc::ClientReadReactor<Response>*)>;
  StreamCollector(const Starter& start, bool with_header = true) {
    if (with_header) context_.AddMetadata("workload.spiffe.io", "true");
    start(&context_, this);
    this->StartRead(&incoming_);
    this->StartCall();
  }
  ~StreamCollector() {
    context_.TryCancel();
    WaitDone(10s);
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    {
      spinel::common::MutexLock lock(mutex_);
      messages_.push_back(incoming_);
      cv_.NotifyAll();
    }
    this->StartRead(&incoming_);
  }
  void OnDone(const grpc::Status& status) override {
    spinel::common::MutexLock lock(mutex_);
    status_ = status;
    cv_.NotifyAll();
  }
  // True once at least `n` messages arrived (within `timeout`).
  bool WaitForCount(size_t n, std::chrono::milliseconds timeout = 10s) {
    spinel::common::MutexLock lock(mutex_);
    return cv_.WaitFor(mutex_, timeout, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      return messages_.size() >= n;
    });
  }
  std::optional<grpc::Status> WaitDone(std::chrono::milliseconds timeout = 10s) {
    spinel::common::MutexLock lock(mutex_);
    cv_.WaitFor(mutex_, timeout,
                [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return status_.has_value(); });
    return status_;
  }
  size_t count() {
    spinel::common::MutexLock lock(mutex_);
    return messages_.size();
  }
  Response message(size_t i) {
    spinel::common::MutexLock lock(mutex_);
    REQUIRE(i < messages_.size());
    return messages_[i];
  }

 private:
  grpc::ClientContext context_;
  Response incoming_;
  spinel::common::Mutex mutex_;
  spinel::common::CondVar cv_;
  std::vector<Response> messages_ ABSL_GUARDED_BY(mutex_);
  std::optional<grpc::Status> status_ ABSL_GUARDED_BY(mutex_);
};

class WorkloadApiWorld {
 public:
  explicit WorkloadApiWorld(agent::WorkloadServiceOptions service_options = {}, bool start = true);
  ~WorkloadApiWorld() {
    if (server_) server_->Stop();
  }

  // Server-side state, pushed to the cache as a full snapshot by Sync().
  void PutEntry(const std::string& id, const std::string& spiffe_id,
                const std::vector<std::string>& unix_selectors, const std::string& hint = "");
  void RemoveEntry(const std::string& id) { entries_.erase(id); }
  void Sync();
  // A fresh SVID for entry `id` (stored in the cache), valid for `ttl` from the clock's now.
  agent::X509SvidRecord Issue(const std::string& id, common::Duration ttl = 1h, bool store = true);
  TestZone& zone(const std::string& name) { return zones_.at(name); }
  // A foreign trust domain (federation): Sync() sends its bundle as the server does once a
  // relationship fetched it, but it is no zone of the policy document. Zones trust it through
  // TestZone::federates_with. RemoveForeign: the relationship (and bundle) was deleted.
  TestZone& AddForeign(const std::string& name, const std::string& td);
  void RemoveForeign(const std::string& name) { foreign_.erase(name); }
  TestZone& foreign(const std::string& name) { return foreign_.at(name); }

  void StartServer(agent::WorkloadServiceOptions service_options);
  std::unique_ptr<::SpiffeWorkloadAPI::Stub> Stub() const;
  static void AddHeader(grpc::ClientContext& context) {
    context.AddMetadata("workload.spiffe.io", "true");
  }

  // Opens a FetchX509SVID / FetchX509Bundles / FetchJWTBundles stream on `stub`.
  static std::unique_ptr<StreamCollector<::X509SVIDResponse>> X509Stream(
      ::SpiffeWorkloadAPI::Stub& stub, bool with_header = true);
  static std::unique_ptr<StreamCollector<::X509BundlesResponse>> X509BundlesStream(
      ::SpiffeWorkloadAPI::Stub& stub);
  static std::unique_ptr<StreamCollector<::JWTBundlesResponse>> JwtBundlesStream(
      ::SpiffeWorkloadAPI::Stub& stub);

  grpc::Status FetchJwt(const std::vector<std::string>& audience, ::JWTSVIDResponse* response,
                        const std::string& spiffe_id = "") const;
  grpc::Status Validate(const std::string& audience, const std::string& token,
                        ::ValidateJWTSVIDResponse* response) const;

  FakeClock clock{common::SystemClock::Get().Now()};
  TempDir dir;
  agent::IdentityCache cache;
  TestJwtMinter minter{clock};
  TestWitMinter wit_minter{clock, cache};
  std::unique_ptr<agent::WorkloadApiServer> server_;
  std::string socket_path;
  const uid_t uid = ::getuid();
  std::atomic<int> attestations{0};
  std::atomic<pid_t> last_attested_pid{0};

 private:
  std::map<std::string, TestZone> zones_;
  std::map<std::string, TestZone> foreign_;
  std::map<std::string, spinel::v1::Entry> entries_;
};

inline TestZone MakeZone(const std::string& name, const std::string& td,
                         std::vector<std::string> peers, common::TimePoint now, bool intermediate) {
  TestCa root = TestCa::Root(td, now - 1h, 48h);
  std::optional<TestCa> issuer;
  if (intermediate) issuer.emplace(root.Intermediate(now - 1h, 24h));
  auto jwt_key = common::PrivateKey::Generate();
  REQUIRE(jwt_key.ok());
  auto wit_key = common::PrivateKey::Generate();
  REQUIRE(wit_key.ok());
  return TestZone{name,
                  std::move(root),
                  std::move(issuer),
                  std::move(*jwt_key),
                  "kid-" + name,
                  std::move(peers),
                  /*sequence=*/1,
                  /*federates_with=*/{},
                  std::make_shared<const common::PrivateKey>(std::move(*wit_key)),
                  "wit-" + name};
}

inline WorkloadApiWorld::WorkloadApiWorld(agent::WorkloadServiceOptions service_options,
                                          bool start) {
  const common::TimePoint now = clock.Now();
  zones_.emplace("inference",
                 MakeZone("inference", "inference.example.org", {"retrieval"}, now, true));
  zones_.emplace("retrieval",
                 MakeZone("retrieval", "retrieval.example.org", {"inference"}, now, false));
  zones_.emplace("training", MakeZone("training", "training.example.org", {}, now, false));
  for (auto& [name, zone] : zones_) {
    minter.AddKey(zone.root.td(), zone.jwt_key, zone.kid);
    wit_minter.AddKey(zone.root.td(), *zone.wit_key, zone.wit_kid);
  }
  Sync();
  if (start) StartServer(service_options);
}

inline void WorkloadApiWorld::StartServer(agent::WorkloadServiceOptions service_options) {
  socket_path = dir.File("agent.sock");
  agent::WorkloadApiServerOptions options;
  options.socket.path = socket_path;
  options.service = service_options;
  options.service.expiry_check_interval = 50ms;
  if (options.service.wit_minter == nullptr) options.service.wit_minter = &wit_minter;
  auto attestor = [this](const agent::ProcessInfo& peer) -> absl::StatusOr<common::SelectorSet> {
    ++attestations;
    last_attested_pid = peer.pid;
    common::SelectorSet selectors = {{"unix", "uid:" + std::to_string(peer.uid)},
                                     {"unix", "gid:" + std::to_string(peer.gid)}};
    return selectors;
  };
  auto server = agent::WorkloadApiServer::Start(options, cache, minter, attestor, clock);
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  server_ = std::move(*server);
}

inline void WorkloadApiWorld::PutEntry(const std::string& id, const std::string& spiffe_id,
                                       const std::vector<std::string>& unix_selectors,
                                       const std::string& hint) {
  spinel::v1::Entry entry;
  entry.set_id(id);
  entry.set_spiffe_id(spiffe_id);
  entry.set_hint(hint);
  entry.set_revision_number(static_cast<int64_t>(entries_.size()) + 1);
  for (const std::string& value : unix_selectors) {
    spinel::v1::Selector* selector = entry.add_selectors();
    selector->set_type("unix");
    selector->set_value(value);
  }
  entries_[id] = entry;
}

inline void WorkloadApiWorld::Sync() {
  spinel::v1::SyncUpdate update;
  update.set_full_snapshot(true);
  for (const auto& [id, entry] : entries_) *update.add_entries() = entry;
  nlohmann::json policy = {{"zones", nlohmann::json::array()}};
  for (const auto& [name, zone] : zones_) {
    spinel::v1::Bundle* bundle = update.add_bundles();
    bundle->set_trust_domain(zone.root.td().name());
    auto json = zone.MakeBundle().ToJson();
    REQUIRE(json.ok());
    bundle->set_jwks(*json);
    policy["zones"].push_back({{"name", name},
                               {"trust_domain", zone.root.td().name()},
                               {"peers", zone.peers},
                               {"federates_with", zone.federates_with}});
  }
  for (const auto& [name, foreign] : foreign_) {
    spinel::v1::Bundle* bundle = update.add_bundles();
    bundle->set_trust_domain(foreign.root.td().name());
    auto json = foreign.MakeBundle().ToJson();
    REQUIRE(json.ok());
    bundle->set_jwks(*json);
  }
  update.set_policy(policy.dump());
  absl::Status status = cache.ApplySyncUpdate(update);
  REQUIRE_MESSAGE(status.ok(), status.ToString());
}

inline TestZone& WorkloadApiWorld::AddForeign(const std::string& name, const std::string& td) {
  auto [it, added] = foreign_.insert_or_assign(name, MakeZone(name, td, {}, clock.Now(), false));
  return it->second;
}

inline agent::X509SvidRecord WorkloadApiWorld::Issue(const std::string& id, common::Duration ttl,
                                                     bool store) {
  const spinel::v1::Entry& entry = entries_.at(id);
  auto spiffe_id = common::SpiffeId::Parse(entry.spiffe_id());
  REQUIRE(spiffe_id.ok());
  const TestZone* zone = nullptr;
  for (const auto& [name, z] : zones_) {
    if (z.root.td() == spiffe_id->trust_domain()) zone = &z;
  }
  REQUIRE(zone != nullptr);
  const common::TimePoint now = clock.Now();
  TestLeaf leaf = zone->issuer().Mint(entry.spiffe_id(), now, ttl);
  auto key_der = leaf.key.ToPkcs8Der();
  REQUIRE(key_der.ok());
  agent::X509SvidRecord record;
  record.entry_id = id;
  record.id = *spiffe_id;
  record.chain = zone->issuer().ChainFor(leaf.cert);
  record.key_der = std::make_shared<const common::SecretData>(std::move(*key_der));
  record.issued_at = now;
  record.not_before = leaf.cert.NotBefore();
  record.expires_at = leaf.cert.NotAfter();
  record.renew_at = now + ttl / 2;
  if (store) cache.StoreX509Svids({record});
  return record;
}

inline std::unique_ptr<::SpiffeWorkloadAPI::Stub> WorkloadApiWorld::Stub() const {
  grpc::ChannelArguments args;
  static std::atomic<int> counter{0};
  args.SetInt("spinel.test.channel", ++counter);  // a separate connection per stub
  return ::SpiffeWorkloadAPI::NewStub(
      grpc::CreateCustomChannel("unix://" + socket_path, grpc::InsecureChannelCredentials(), args));
}

inline std::unique_ptr<StreamCollector<::X509SVIDResponse>> WorkloadApiWorld::X509Stream(
    ::SpiffeWorkloadAPI::Stub& stub, bool with_header) {
  static const ::X509SVIDRequest request;
  return std::make_unique<StreamCollector<::X509SVIDResponse>>(
      [&stub](grpc::ClientContext* context, grpc::ClientReadReactor<::X509SVIDResponse>* r) {
        stub.async()->FetchX509SVID(context, &request, r);
      },
      with_header);
}

inline std::unique_ptr<StreamCollector<::X509BundlesResponse>> WorkloadApiWorld::X509BundlesStream(
    ::SpiffeWorkloadAPI::Stub& stub) {
  static const ::X509BundlesRequest request;
  return std::make_unique<StreamCollector<::X509BundlesResponse>>(
      [&stub](grpc::ClientContext* context, grpc::ClientReadReactor<::X509BundlesResponse>* r) {
        stub.async()->FetchX509Bundles(context, &request, r);
      });
}

inline std::unique_ptr<StreamCollector<::JWTBundlesResponse>> WorkloadApiWorld::JwtBundlesStream(
    ::SpiffeWorkloadAPI::Stub& stub) {
  static const ::JWTBundlesRequest request;
  return std::make_unique<StreamCollector<::JWTBundlesResponse>>(
      [&stub](grpc::ClientContext* context, grpc::ClientReadReactor<::JWTBundlesResponse>* r) {
        stub.async()->FetchJWTBundles(context, &request, r);
      });
}

inline grpc::Status WorkloadApiWorld::FetchJwt(const std::vector<std::string>& audience,
                                               ::JWTSVIDResponse* response,
                                               const std::string& spiffe_id) const {
  ::JWTSVIDRequest request;
  for (const std::string& a : audience) request.add_audience(a);
  request.set_spiffe_id(spiffe_id);
  grpc::ClientContext context;
  AddHeader(context);
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  return Stub()->FetchJWTSVID(&context, request, response);
}

inline grpc::Status WorkloadApiWorld::Validate(const std::string& audience,
                                               const std::string& token,
                                               ::ValidateJWTSVIDResponse* response) const {
  ::ValidateJWTSVIDRequest request;
  request.set_audience(audience);
  request.set_svid(token);
  grpc::ClientContext context;
  AddHeader(context);
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  return Stub()->ValidateJWTSVID(&context, request, response);
}

}  // namespace spinel::testing
