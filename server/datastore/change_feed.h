// ChangeFeed: the one source of "what changed" for the parts of the server that react to
// changes (sync streams, bundle merging, the federation refresher, the policy push). Nothing
// else wakes them.
//
// It delivers every change the datastore committed after the revision it started at, exactly
// once and in revision order, in batches, to every subscriber:
//   - this process's own commits in-process: the datastore tells the feed after each commit
//     (Datastore::SetChangeListener) and the events are delivered as they are when they
//     continue exactly at the last revision delivered;
//   - other replicas' commits (PostgreSQL): NOTIFY wakes the feed (PgChangeListener, started
//     here for a PostgresDatastore: the only place that knows the backend), which reads the
//     change log since the last revision delivered (Datastore::ListChangeEvents). So does a
//     local commit that does not continue where the feed is (another replica committed in
//     between), a reconnect of the listener (notifications may have been lost), and a failed
//     read (retried with a backoff of 0.1 s doubling to 5 s while the datastore is down).
// A write that failed or rolled back appended no event, so nothing is delivered for it. When
// the log had been pruned past the last revision delivered (kChangeEventRetention, a long
// outage), the batch says `resync`: subscribers must assume anything changed.
//
// Changes that are not in the datastore (this replica's zones were reloaded, other replicas'
// authorities expired out of the merged bundles) are published in-process (PublishLocal) and
// delivered in turn with the others, with revision 0.
//
// Threads: one delivery thread calls the subscribers, one batch at a time; they must not
// block long. Subscribe, PublishLocal and Stop are thread-safe. The datastore must outlive the
// feed, which removes its change listener when stopped.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "server/datastore/datastore.h"

namespace spinel::server {

class PgChangeListener;

struct ChangeBatch {
  std::vector<ChangeEvent> events;  // in revision order (local-only events: revision 0)
  bool resync = false;              // changes were missed: assume anything changed
};

struct ChangeFeedOptions {
  // Deliver the changes committed after this revision; unset: the datastore's current one.
  std::optional<int64_t> since;
  int page_size = 1000;  // events read from the log at a time
};

class ChangeFeed {
 public:
  using Subscriber = std::function<void(const ChangeBatch&)>;

  // Starts the delivery thread (and, for PostgreSQL, the listener). Errors: the datastore's,
  // when the current revision cannot be read.
  static absl::StatusOr<std::unique_ptr<ChangeFeed>> Start(Datastore& datastore,
                                                           ChangeFeedOptions options);
  ~ChangeFeed();  // Stop()s
  ChangeFeed(const ChangeFeed&) = delete;
  ChangeFeed& operator=(const ChangeFeed&) = delete;

  // `subscriber` gets every batch delivered from now on.
  void Subscribe(Subscriber subscriber);
  // Delivers `event` (with revision 0) to the subscribers in turn with the datastore's changes.
  void PublishLocal(ChangeEvent event);
  // Stops listening and delivering; joins the threads. Idempotent.
  void Stop();

  // The revision of the last datastore change delivered.
  int64_t delivered_revision() const;

 private:
  ChangeFeed(Datastore& datastore, ChangeFeedOptions options, int64_t since);

  // What the delivery thread has to do; shared with the datastore's change listener, which a
  // commit racing Stop() may still call.
  struct Inbox {
    common::Mutex mutex;
    common::CondVar wake;
    std::vector<ChangeEvent> committed ABSL_GUARDED_BY(mutex);  // local commits' events
    std::vector<ChangeEvent> local ABSL_GUARDED_BY(mutex);      // PublishLocal
    bool read_log ABSL_GUARDED_BY(mutex) = false;
    bool stopping ABSL_GUARDED_BY(mutex) = false;
    int64_t delivered ABSL_GUARDED_BY(mutex) = 0;  // written by the delivery thread
  };
  struct Work {
    std::vector<ChangeEvent> committed;
    std::vector<ChangeEvent> local;
    bool read_log = false;
  };

  void Run();
  // Delivers the datastore changes of `work`; the datastore's error when the log cannot be read.
  absl::Status CatchUp(const Work& work);
  absl::Status ReadLog();
  void Deliver(const ChangeBatch& batch);
  void SetDelivered(int64_t revision);
  // Sleeps up to `ms` or until stopped; false when stopped.
  bool Pause(int ms);
  // Waits for work and takes it; false when stopped.
  bool TakeWork(Work* work);

  Datastore& datastore_;
  const ChangeFeedOptions options_;
  const std::shared_ptr<Inbox> inbox_ = std::make_shared<Inbox>();
  int64_t last_ = 0;  // delivery thread only: the last datastore revision delivered
  common::Mutex subscribers_mutex_;
  std::vector<Subscriber> subscribers_ ABSL_GUARDED_BY(subscribers_mutex_);
  std::unique_ptr<PgChangeListener> listener_;
  std::thread thread_;
};

}  // namespace spinel::server
