#include "agent/authz/audit_forwarder.h"

#include <algorithm>

#include "common/log.h"

namespace spinel::agent {

AuditForwarder::AuditForwarder(AuditReporter& reporter, const common::Clock& clock,
                               AuditForwarderOptions options)
    : reporter_(reporter), clock_(clock), options_([&options] {
        options.capacity = std::max<size_t>(options.capacity, 1);
        options.max_batch = std::max<size_t>(options.max_batch, 1);
        return options;
      }()) {}

AuditForwarder::~AuditForwarder() { Stop(); }

void AuditForwarder::Record(spinel::v1::AuditEvent event) {
  if (event.time_ms() == 0) {
    event.set_time_ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch())
            .count());
  }
  {
    common::MutexLock lock(mutex_);
    while (queue_.size() >= options_.capacity) {
      queue_.pop_front();
      ++stats_.dropped;
      ++stats_.dropped_unreported;
    }
    queue_.emplace_back(next_seq_++, std::move(event));
  }
  wake_.NotifyAll();
}

absl::Status AuditForwarder::Flush() {
  common::MutexLock flushing(flush_mutex_);
  spinel::v1::ReportAuditEventsRequest request;
  uint64_t last_seq = 0;
  uint64_t dropped = 0;
  {
    common::MutexLock lock(mutex_);
    if (queue_.empty() && stats_.dropped_unreported == 0) return absl::OkStatus();
    for (size_t i = 0; i < queue_.size() && i < options_.max_batch; ++i) {
      *request.add_events() = queue_[i].second;
      last_seq = queue_[i].first;
    }
    dropped = stats_.dropped_unreported;
    request.set_dropped(dropped);
  }
  absl::StatusOr<uint64_t> stored = reporter_.ReportAuditEvents(request);
  common::MutexLock lock(mutex_);
  if (!stored.ok()) {
    ++stats_.failed_sends;
    return stored.status();
  }
  // Events may have been dropped from the front while sending: remove only what was sent.
  while (!queue_.empty() && queue_.front().first <= last_seq) queue_.pop_front();
  stats_.sent += static_cast<uint64_t>(request.events_size());
  stats_.dropped_unreported -= dropped;
  return absl::OkStatus();
}

void AuditForwarder::Start() {
  common::MutexLock lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void AuditForwarder::Stop() {
  {
    common::MutexLock lock(mutex_);
    stopping_ = true;
  }
  wake_.NotifyAll();
  if (thread_.joinable()) thread_.join();
  common::MutexLock lock(mutex_);
  if (!queue_.empty()) {
    LOG_WARN("audit events not delivered at shutdown", {{"events", std::to_string(queue_.size())}});
    queue_.clear();
  }
}

void AuditForwarder::Run() {
  std::chrono::milliseconds backoff = options_.retry_min;
  common::MutexLock lock(mutex_);
  while (!stopping_) {
    wake_.Wait(mutex_, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) {
      return stopping_ || !queue_.empty() || stats_.dropped_unreported;
    });
    if (stopping_) break;
    lock.Unlock();
    absl::Status sent = Flush();
    lock.Lock();
    if (sent.ok()) {
      backoff = options_.retry_min;
      continue;
    }
    LOG_WARN("audit events not delivered; keeping them and retrying",
             {{"error", std::string(sent.message())},
              {"queued", std::to_string(queue_.size())},
              {"retry_in_ms", std::to_string(backoff.count())}});
    wake_.WaitFor(mutex_, backoff,
                  [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return stopping_; });
    backoff = std::min(backoff * 2, options_.retry_max);
  }
}

AuditForwarder::Stats AuditForwarder::stats() const {
  common::MutexLock lock(mutex_);
  Stats out = stats_;
  out.queued = queue_.size();
  return out;
}

}  // namespace spinel::agent
