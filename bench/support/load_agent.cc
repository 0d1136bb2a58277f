#include "bench/support/load_agent.h"

#include "agent/server_client.h"
#include "bench/support/load_processes.h"
#include "common/csr.h"
#include "common/grpc_status.h"
#include "common/keys.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::bench {

using common::StrCat;

// The Sync stream of one SimAgent on gRPC's callback API. Owned by the SimAgent; OnDone is
// the last callback, after which it may be destroyed.
class SimAgent::SyncReactor final : public grpc::ClientReadReactor<spinel::v1::SyncUpdate> {
 public:
  SyncReactor(SimAgent& agent, spinel::v1::AgentService::Stub& stub) : agent_(agent) {
    stub.async()->Sync(&context_, &request_, this);
    StartRead(&update_);
    StartCall();
  }
  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    agent_.Apply(update_);
    StartRead(&update_);
  }
  void OnDone(const grpc::Status& status) override {
    spinel::common::MutexLock lock(mutex_);
    done_ = true;
    agent_.SyncEnded(common::FromGrpcStatus(status));
    done_cv_.NotifyAll();
  }
  void Cancel() { context_.TryCancel(); }
  void WaitDone() {
    spinel::common::MutexLock lock(mutex_);
    done_cv_.Wait(mutex_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return done_; });
  }

 private:
  SimAgent& agent_;
  grpc::ClientContext context_;
  spinel::v1::SyncRequest request_;
  spinel::v1::SyncUpdate update_;
  spinel::common::Mutex mutex_;
  spinel::common::CondVar done_cv_;
  bool done_ ABSL_GUARDED_BY(mutex_) = false;
};

absl::StatusOr<std::unique_ptr<SimAgent>> SimAgent::Attest(const std::string& address,
                                                           const std::string& control_pem,
                                                           const std::string& join_token) {
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> authorities,
                          common::Certificate::ParsePemChain(control_pem));
  SPINEL_ASSIGN_OR_RETURN(common::TrustDomain control, common::TrustDomain::Parse(kLoadControlTd));
  auto trust = std::make_shared<agent::ControlTrust>(control, std::move(authorities));
  const common::Clock& clock = common::SystemClock::Get();
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
  agent::ServerClient client(address, trust, clock);
  SPINEL_ASSIGN_OR_RETURN(agent::AgentSvid svid, client.AttestJoinToken(join_token, key));
  SPINEL_ASSIGN_OR_RETURN(common::SecretData key_pem, key.ToPkcs8Pem());
  agent::AgentIdentity identity{common::ConcatPem(svid.chain), std::move(key_pem)};
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // this agent's own connection
  args.SetMaxReceiveMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(
      address, agent::MakeAgentChannelCredentials(trust, clock, &identity), args);
  std::shared_ptr<spinel::v1::AgentService::Stub> stub = spinel::v1::AgentService::NewStub(channel);
  return std::unique_ptr<SimAgent>(new SimAgent(svid.id.ToString(), std::move(stub)));
}

SimAgent::SimAgent(std::string id, std::shared_ptr<spinel::v1::AgentService::Stub> stub)
    : id_(std::move(id)), stub_(std::move(stub)) {}

SimAgent::~SimAgent() { StopSync(); }

absl::StatusOr<int> SimAgent::SignCsrs(const spinel::v1::SignX509SvidsRequest& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  spinel::v1::SignX509SvidsResponse response;
  SPINEL_RETURN_IF_ERROR(
      common::FromGrpcStatus(stub_->SignX509Svids(&context, request, &response)));
  int signed_count = 0;
  for (const spinel::v1::SignedSvid& svid : response.svids()) {
    if (!svid.error().empty()) {
      return absl::Status(static_cast<absl::StatusCode>(svid.error_code()),
                          StrCat("entry ", svid.entry_id(), ": ", svid.error()));
    }
    if (svid.certificate_chain_size() > 0) ++signed_count;
  }
  return signed_count;
}

void SimAgent::StartSync() {
  spinel::common::MutexLock lock(mutex_);
  if (reactor_ != nullptr) return;
  sync_status_ = absl::OkStatus();
  reactor_ = std::make_unique<SyncReactor>(*this, *stub_);
}

void SimAgent::StopSync() {
  std::unique_ptr<SyncReactor> reactor;
  {
    spinel::common::MutexLock lock(mutex_);
    reactor = std::move(reactor_);
  }
  if (reactor == nullptr) return;
  reactor->Cancel();
  reactor->WaitDone();
}

void SimAgent::ExpectEntries(size_t n) {
  spinel::common::MutexLock lock(mutex_);
  expected_ = n;
  full_at_.reset();
  if (snapshot_ && current_.size() >= expected_) full_at_ = std::chrono::steady_clock::now();
}

void SimAgent::Apply(const spinel::v1::SyncUpdate& update) {
  const SteadyTime now = std::chrono::steady_clock::now();
  spinel::common::MutexLock lock(mutex_);
  if (update.full_snapshot()) {
    current_.clear();
    snapshot_ = true;
  }
  for (const spinel::v1::Entry& entry : update.entries()) {
    current_[entry.id()] = true;
    first_seen_.emplace(entry.id(), now);
  }
  for (const std::string& removed : update.removed_entry_ids()) current_.erase(removed);
  if (!full_at_ && expected_ > 0 && snapshot_ && current_.size() >= expected_) full_at_ = now;
  changed_.NotifyAll();
}

void SimAgent::SyncEnded(const absl::Status& status) {
  spinel::common::MutexLock lock(mutex_);
  sync_status_ = status;
  changed_.NotifyAll();
}

size_t SimAgent::EntryCount() const {
  spinel::common::MutexLock lock(mutex_);
  return current_.size();
}

bool SimAgent::snapshot_received() const {
  spinel::common::MutexLock lock(mutex_);
  return snapshot_;
}

std::optional<SteadyTime> SimAgent::FullAt() const {
  spinel::common::MutexLock lock(mutex_);
  return full_at_;
}

std::optional<SteadyTime> SimAgent::FirstSeen(const std::string& entry_id) const {
  spinel::common::MutexLock lock(mutex_);
  auto found = first_seen_.find(entry_id);
  if (found == first_seen_.end()) return std::nullopt;
  return found->second;
}

std::optional<SteadyTime> SimAgent::WaitForEntry(const std::string& entry_id,
                                                 std::chrono::milliseconds timeout) const {
  spinel::common::MutexLock lock(mutex_);
  changed_.WaitFor(mutex_, timeout, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
    return first_seen_.count(entry_id) > 0;
  });
  auto found = first_seen_.find(entry_id);
  if (found == first_seen_.end()) return std::nullopt;
  return found->second;
}

absl::Status SimAgent::sync_status() const {
  spinel::common::MutexLock lock(mutex_);
  return sync_status_;
}

absl::StatusOr<std::vector<std::string>> MakeCsrs(const std::string& spiffe_id, int count) {
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId id, common::SpiffeId::Parse(spiffe_id));
  std::vector<std::string> csrs;
  csrs.reserve(count);
  for (int i = 0; i < count; ++i) {
    SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
    SPINEL_ASSIGN_OR_RETURN(std::string der, common::CreateCsrDer(key, id));
    csrs.push_back(std::move(der));
  }
  return csrs;
}

}  // namespace spinel::bench
