#include "server/sync/change_wakeup.h"

namespace spinel::server {

Wakeups WakeupsFor(const ChangeBatch& batch, const std::string& server_id) {
  Wakeups wakeups;
  if (batch.resync) {
    wakeups.all = true;
    return wakeups;
  }
  for (const ChangeEvent& event : batch.events) {
    const bool targeted = event.kind == ChangeKind::kEntry && !event.parent_ids.empty();
    if (!targeted) {
      wakeups.all = true;
      break;
    }
    for (const std::string& parent : event.parent_ids) {
      if (parent == server_id) {  // a node alias
        wakeups.all = true;
        break;
      }
      wakeups.parent_ids.insert(parent);
    }
    if (wakeups.all) break;
  }
  if (wakeups.all) wakeups.parent_ids.clear();
  return wakeups;
}

void ChangeWakeup::operator()(const ChangeBatch& batch) const {
  Wakeups wakeups = WakeupsFor(batch, server_id_);
  if (wakeups.all) {
    hub_->NotifyChanged();
  } else if (!wakeups.parent_ids.empty()) {
    hub_->NotifyEntriesChanged(wakeups.parent_ids);
  }
}

void WakeSyncOnChanges(ChangeFeed& feed, SyncHub& hub, const common::SpiffeId& server_id) {
  feed.Subscribe(ChangeWakeup(hub, server_id.ToString()));
}

}  // namespace spinel::server
