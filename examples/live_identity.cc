#include "examples/live_identity.h"

namespace spinel::examples {

absl::StatusOr<std::unique_ptr<LiveIdentity>> LiveIdentity::Start(const std::string& socket_path,
                                                                  std::chrono::milliseconds timeout,
                                                                  OnRotate on_rotate) {
  auto client = std::make_unique<WorkloadApiClient>(socket_path);
  auto first = client->FetchX509(timeout);
  if (!first.ok()) return first.status();
  return std::unique_ptr<LiveIdentity>(
      new LiveIdentity(std::move(client), std::move(*first), std::move(on_rotate)));
}

LiveIdentity::LiveIdentity(std::unique_ptr<WorkloadApiClient> client,
                           std::shared_ptr<const WorkloadIdentity> first, OnRotate on_rotate)
    : client_(std::move(client)), on_rotate_(std::move(on_rotate)), current_(std::move(first)) {
  watcher_ = std::thread([this] { Watch(); });
}

LiveIdentity::~LiveIdentity() {
  {
    common::MutexLock lock(mu_);
    stopping_ = true;
  }
  changed_.NotifyAll();
  client_->Cancel();
  watcher_.join();
}

void LiveIdentity::Watch() {
  for (;;) {
    absl::Status status = client_->WatchX509([this](auto next) { Update(std::move(next)); });
    common::MutexLock lock(mu_);
    if (stopping_) return;
    // The stream broke (agent restart, parse error): keep the identity we have and retry.
    changed_.WaitFor(mu_, std::chrono::seconds(1),
                     [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; });
    if (stopping_) return;
  }
}

void LiveIdentity::Update(std::shared_ptr<const WorkloadIdentity> next) {
  std::shared_ptr<const WorkloadIdentity> before;
  {
    common::MutexLock lock(mu_);
    before = current_;
    current_ = next;
    if (before->svid.chain.front().Equals(next->svid.chain.front())) return;  // bundles only
  }
  if (on_rotate_) on_rotate_(*before, *next);
  {
    common::MutexLock lock(mu_);
    ++rotations_;
  }
  changed_.NotifyAll();
}

std::shared_ptr<const WorkloadIdentity> LiveIdentity::Current() const {
  common::MutexLock lock(mu_);
  return current_;
}

int LiveIdentity::rotations() const {
  common::MutexLock lock(mu_);
  return rotations_;
}

bool LiveIdentity::WaitForRotations(int count, std::chrono::milliseconds timeout) const {
  common::MutexLock lock(mu_);
  return changed_.WaitFor(mu_, timeout, [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return rotations_ >= count || stopping_;
  }) && rotations_ >= count;
}

}  // namespace spinel::examples
