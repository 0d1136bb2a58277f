#include "agent/workload_api/stream_hub.h"

namespace spinel::agent {

StreamHub::StreamHub(IdentityCache& cache, const common::Clock& clock,
                     std::chrono::milliseconds expiry_check_interval)
    : cache_(cache), clock_(clock), expiry_check_interval_(expiry_check_interval) {
  std::weak_ptr<Signal> weak = signal_;
  watch_id_ = cache_.Watch([weak](uint64_t) {
    if (std::shared_ptr<Signal> signal = weak.lock()) {
      common::MutexLock lock(signal->mutex);
      signal->changed = true;
      signal->cv.NotifyOne();
    }
  });
  dispatcher_ = std::thread([this] { Dispatch(); });
}

StreamHub::~StreamHub() { Stop(); }

void StreamHub::Stop() {
  if (watch_id_ != 0) cache_.Unwatch(watch_id_);
  watch_id_ = 0;
  {
    common::MutexLock lock(signal_->mutex);
    signal_->stopping = true;
    signal_->cv.NotifyOne();
  }
  if (dispatcher_.joinable()) dispatcher_.join();
}

bool StreamHub::Add(SnapshotStream* stream) {
  common::MutexLock lock(mutex_);
  if (closed_) return false;
  stream->SetOnDone([this](SnapshotStream* s) { Remove(s); });
  streams_.insert(stream);
  return true;
}

void StreamHub::Remove(SnapshotStream* stream) {
  common::MutexLock lock(mutex_);
  streams_.erase(stream);
}

size_t StreamHub::size() const {
  common::MutexLock lock(mutex_);
  return streams_.size();
}

std::vector<SnapshotStream*> StreamHub::Pin() const {
  common::MutexLock lock(mutex_);
  std::vector<SnapshotStream*> pinned(streams_.begin(), streams_.end());
  for (SnapshotStream* stream : pinned) stream->Ref();
  return pinned;
}

void StreamHub::Close(const grpc::Status& status) {
  {
    common::MutexLock lock(mutex_);
    closed_ = true;
  }
  for (SnapshotStream* stream : Pin()) {
    stream->RequestFinish(status);
    stream->Unref();
  }
}

void StreamHub::Dispatch() {
  for (;;) {
    bool changed = false;
    {
      common::MutexLock lock(signal_->mutex);
      signal_->cv.WaitFor(signal_->mutex, expiry_check_interval_,
                          [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(signal_->mutex) {
                            return signal_->changed || signal_->stopping;
                          });
      if (signal_->stopping) return;
      changed = signal_->changed;
      signal_->changed = false;
    }
    std::vector<SnapshotStream*> streams = Pin();
    std::shared_ptr<const CacheSnapshot> snapshot = cache_.Snapshot();
    const common::TimePoint now = clock_.Now();
    for (SnapshotStream* stream : streams) {
      if (changed || stream->ExpiryDue(now)) stream->Poke(*snapshot);
      stream->Unref();
    }
  }
}

}  // namespace spinel::agent
