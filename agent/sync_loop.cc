#include "agent/sync_loop.h"

#include <algorithm>
#include <random>

#include "common/log.h"

namespace spinel::agent {

SyncLoop::~SyncLoop() { Stop(); }

void SyncLoop::Start() {
  thread_ = std::thread([this] { Run(); });
  renew_thread_ = std::thread([this] {
    while (Sleep(std::chrono::seconds(1))) {
      absl::StatusOr<bool> renewed = session_.RenewIfDue();
      if (!renewed.ok()) {
        LOG_WARN("agent SVID renewal failed; will retry",
                 {{"error", std::string(renewed.status().message())}});
      } else if (*renewed) {
        // The open stream keeps its old connection; new calls use the new SVID.
      }
    }
  });
}

void SyncLoop::Stop() {
  {
    common::MutexLock lock(mutex_);
    stopping_ = true;
    if (stream_context_) stream_context_->TryCancel();
  }
  wake_.NotifyAll();
  if (thread_.joinable()) thread_.join();
  if (renew_thread_.joinable()) renew_thread_.join();
}

bool SyncLoop::Sleep(common::Duration d) {
  common::MutexLock lock(mutex_);
  return !wake_.WaitFor(mutex_, d,
                        [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return stopping_; });
}

common::Duration ReconnectBackoff::Next() {
  thread_local std::mt19937_64 random(std::random_device{}());
  std::uniform_real_distribution<double> jitter(0.8, 1.2);
  const common::Duration step = std::min(base_, max_);
  base_ = std::min<common::Duration>(step * 2, max_);
  auto delay = std::chrono::duration_cast<common::Duration>(step * jitter(random));
  return std::clamp<common::Duration>(delay, common::Duration::zero(), max_);
}

void SyncLoop::OnUpdate(const spinel::v1::SyncUpdate& update) {
  absl::Status applied = cache_.ApplySyncUpdate(update);
  if (!applied.ok()) {
    LOG_ERROR("sync update rejected", {{"error", std::string(applied.message())}});
    return;
  }
  if (update.full_snapshot()) connected_ = true;
  std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
  auto control = snapshot->bundles.find(config_.trust_domain);
  if (control != snapshot->bundles.end() && !control->second.x509_authorities.empty()) {
    absl::Status trusted = session_.UpdateControlAuthorities(control->second.x509_authorities);
    if (!trusted.ok()) {
      LOG_WARN("cannot persist control bundle", {{"error", std::string(trusted.message())}});
    }
  }
  LOG_DEBUG("sync update applied", {{"entries", std::to_string(update.entries_size())},
                                    {"removed", std::to_string(update.removed_entry_ids_size())},
                                    {"bundles", std::to_string(update.bundles_size())}});
}

absl::Status SyncLoop::RunStream() {
  auto context = std::make_shared<grpc::ClientContext>();
  {
    common::MutexLock lock(mutex_);
    if (stopping_) return absl::CancelledError("stopping");
    stream_context_ = context;
  }
  absl::Status status =
      client_.Sync(context.get(), [this](const spinel::v1::SyncUpdate& u) { OnUpdate(u); });
  common::MutexLock lock(mutex_);
  stream_context_.reset();
  connected_ = false;
  return status;
}

void SyncLoop::Run() {
  ReconnectBackoff backoff(config_.reconnect_min, config_.reconnect_max);
  while (true) {
    const common::TimePoint started = clock_.Now();
    absl::Status ended = RunStream();
    {
      common::MutexLock lock(mutex_);
      if (stopping_) return;
    }
    // A stream that stayed up a while was a success: start the backoff afresh.
    if (clock_.Now() - started > std::chrono::seconds(10)) backoff.Reset();
    const common::Duration delay = backoff.Next();
    LOG_WARN(
        "server stream ended; reconnecting",
        {{"error", std::string(ended.message())},
         {"retry_in_ms",
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(delay).count())}});
    if (absl::IsPermissionDenied(ended) || absl::IsUnauthenticated(ended)) {
      absl::Status reattested = session_.Reattest();
      if (!reattested.ok()) {
        LOG_ERROR("cannot re-attest", {{"error", std::string(reattested.message())}});
      }
    }
    if (!Sleep(delay)) return;
  }
}

}  // namespace spinel::agent
