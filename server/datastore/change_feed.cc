#include "server/datastore/change_feed.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/log.h"
#include "common/status_macros.h"
#include "server/datastore/postgres_datastore.h"
#include "server/datastore/postgres_listener.h"

namespace spinel::server {
namespace {

constexpr int kFirstBackoffMs = 100;
constexpr int kMaxBackoffMs = 5000;

// True when `events` are exactly the revisions after `last`, one by one.
bool ContinuesAt(const std::vector<ChangeEvent>& events, int64_t last) {
  for (const ChangeEvent& event : events) {
    if (event.revision != ++last) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChangeFeed>> ChangeFeed::Start(Datastore& datastore,
                                                              ChangeFeedOptions options) {
  int64_t since = 0;
  if (options.since) {
    since = *options.since;
  } else {
    SPINEL_ASSIGN_OR_RETURN(since, datastore.CurrentRevision());
  }
  // Private constructor: not reachable through std::make_unique.
  return std::unique_ptr<ChangeFeed>(new ChangeFeed(datastore, std::move(options), since));
}

ChangeFeed::ChangeFeed(Datastore& datastore, ChangeFeedOptions options, int64_t since)
    : datastore_(datastore), options_(std::move(options)), last_(since) {
  inbox_->delivered = since;
  inbox_->read_log = options_.since.has_value();  // a given start: catch up from it at once
  std::shared_ptr<Inbox> inbox = inbox_;
  datastore_.SetChangeListener([inbox](const std::vector<ChangeEvent>& events) {
    {
      common::MutexLock lock(inbox->mutex);
      inbox->committed.insert(inbox->committed.end(), events.begin(), events.end());
    }
    inbox->wake.NotifyOne();
  });
  thread_ = std::thread([this] { Run(); });
  // Other replicas' commits reach this process only through the database.
  if (auto* postgres = dynamic_cast<PostgresDatastore*>(&datastore_)) {
    listener_ = std::make_unique<PgChangeListener>(
        postgres->conninfo(), postgres->location(), [inbox](int64_t revision) {
          {
            common::MutexLock lock(inbox->mutex);
            // 0: a (re)connect, when notifications may have been lost.
            if (revision != 0 && revision <= inbox->delivered) return;
            inbox->read_log = true;
          }
          inbox->wake.NotifyOne();
        });
  }
}

ChangeFeed::~ChangeFeed() { Stop(); }

void ChangeFeed::Subscribe(Subscriber subscriber) {
  common::MutexLock lock(subscribers_mutex_);
  subscribers_.push_back(std::move(subscriber));
}

void ChangeFeed::PublishLocal(ChangeEvent event) {
  event.revision = 0;
  {
    common::MutexLock lock(inbox_->mutex);
    inbox_->local.push_back(std::move(event));
  }
  inbox_->wake.NotifyOne();
}

void ChangeFeed::Stop() {
  if (listener_) listener_->Stop();
  {
    common::MutexLock lock(inbox_->mutex);
    if (inbox_->stopping && !thread_.joinable()) return;
    inbox_->stopping = true;
  }
  inbox_->wake.NotifyAll();
  if (thread_.joinable()) thread_.join();
  datastore_.SetChangeListener({});
}

int64_t ChangeFeed::delivered_revision() const {
  common::MutexLock lock(inbox_->mutex);
  return inbox_->delivered;
}

void ChangeFeed::SetDelivered(int64_t revision) {
  last_ = revision;
  common::MutexLock lock(inbox_->mutex);
  inbox_->delivered = revision;
}

bool ChangeFeed::Pause(int ms) {
  Inbox& inbox = *inbox_;
  common::MutexLock lock(inbox.mutex);
  return !inbox.wake.WaitFor(
      inbox.mutex, std::chrono::milliseconds(ms),
      [&inbox]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(inbox.mutex) { return inbox.stopping; });
}

bool ChangeFeed::TakeWork(Work* work) {
  Inbox& inbox = *inbox_;
  common::MutexLock lock(inbox.mutex);
  inbox.wake.Wait(inbox.mutex, [&inbox]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(inbox.mutex) {
    return inbox.stopping || inbox.read_log || !inbox.committed.empty() || !inbox.local.empty();
  });
  if (inbox.stopping) return false;
  work->committed = std::exchange(inbox.committed, {});
  work->local = std::exchange(inbox.local, {});
  work->read_log = std::exchange(inbox.read_log, false);
  return true;
}

void ChangeFeed::Run() {
  int backoff = kFirstBackoffMs;
  while (true) {
    Work work;
    if (!TakeWork(&work)) return;
    if (!work.local.empty()) Deliver(ChangeBatch{std::move(work.local), false});
    absl::Status status = CatchUp(work);
    if (status.ok()) {
      backoff = kFirstBackoffMs;
      continue;
    }
    LOG_WARN("change feed cannot read the change log; retrying",
             {{"error", std::string(status.message())}});
    {
      common::MutexLock lock(inbox_->mutex);
      inbox_->read_log = true;  // what was committed meanwhile is in the log
    }
    if (!Pause(backoff)) return;
    backoff = std::min(backoff * 2, kMaxBackoffMs);
  }
}

absl::Status ChangeFeed::CatchUp(const Work& work) {
  std::vector<ChangeEvent> committed;
  for (const ChangeEvent& event : work.committed) {
    if (event.revision > last_) committed.push_back(event);
  }
  // Concurrent commits may have told the feed out of order.
  std::sort(committed.begin(), committed.end(),
            [](const ChangeEvent& a, const ChangeEvent& b) { return a.revision < b.revision; });
  if (!work.read_log && committed.empty()) return absl::OkStatus();
  if (!work.read_log && ContinuesAt(committed, last_)) {
    const int64_t last = committed.back().revision;
    Deliver(ChangeBatch{std::move(committed), false});
    SetDelivered(last);
    return absl::OkStatus();
  }
  return ReadLog();
}

absl::Status ChangeFeed::ReadLog() {
  while (true) {
    SPINEL_ASSIGN_OR_RETURN(std::vector<ChangeEvent> events,
                            datastore_.ListChangeEvents(last_, options_.page_size));
    if (events.empty()) return absl::OkStatus();
    const bool complete = ContinuesAt(events, last_);
    const int64_t last = events.back().revision;
    const bool more = static_cast<int>(events.size()) >= options_.page_size;
    Deliver(ChangeBatch{std::move(events), !complete});
    SetDelivered(last);
    if (!more) return absl::OkStatus();
  }
}

void ChangeFeed::Deliver(const ChangeBatch& batch) {
  std::vector<Subscriber> subscribers;
  {
    common::MutexLock lock(subscribers_mutex_);
    subscribers = subscribers_;
  }
  for (const Subscriber& subscriber : subscribers) subscriber(batch);
}

}  // namespace spinel::server
