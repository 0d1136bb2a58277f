#include "agent/workload_api/peer_registry.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <vector>

namespace spinel::agent {

PeerRegistry::~PeerRegistry() {
  common::MutexLock lock(mutex_);
  for (auto& [fd, entry] : records_) CloseEntry(entry);
}

void PeerRegistry::CloseEntry(Entry& entry) {
  if (entry.process.pidfd >= 0) ::close(entry.process.pidfd);
  entry.process.pidfd = -1;
}

void PeerRegistry::Record(int fd, uint64_t inode, ProcessInfo process) {
  common::MutexLock lock(mutex_);
  auto it = records_.find(fd);
  if (it != records_.end()) {
    CloseEntry(it->second);
    it->second = Entry{inode, process};
  } else {
    records_.emplace(fd, Entry{inode, process});
  }
}

std::optional<int> PeerRegistry::ParsePeer(std::string_view peer) {
  constexpr std::string_view kPrefix = "fd:";
  if (peer.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view digits = peer.substr(kPrefix.size());
  if (digits.empty() || digits.size() > 9) return std::nullopt;
  int fd = -1;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), fd);
  if (ec != std::errc() || end != digits.data() + digits.size() || fd < 0) return std::nullopt;
  return fd;
}

std::optional<ProcessInfo> PeerRegistry::Lookup(std::string_view peer) const {
  std::optional<int> fd = ParsePeer(peer);
  if (!fd.has_value()) return std::nullopt;
  return LookupFd(*fd);
}

std::optional<ProcessInfo> PeerRegistry::LookupFd(int fd) const {
  common::MutexLock lock(mutex_);
  auto it = records_.find(fd);
  if (it == records_.end()) return std::nullopt;
  return it->second.process;
}

void PeerRegistry::Remove(int fd) {
  common::MutexLock lock(mutex_);
  auto it = records_.find(fd);
  if (it == records_.end()) return;
  CloseEntry(it->second);
  records_.erase(it);
}

size_t PeerRegistry::Prune() {
  common::MutexLock lock(mutex_);
  size_t dropped = 0;
  for (auto it = records_.begin(); it != records_.end();) {
    struct stat st {};
    const bool same = ::fstat(it->first, &st) == 0 && S_ISSOCK(st.st_mode) &&
                      static_cast<uint64_t>(st.st_ino) == it->second.inode;
    if (same) {
      ++it;
      continue;
    }
    CloseEntry(it->second);
    it = records_.erase(it);
    ++dropped;
  }
  return dropped;
}

size_t PeerRegistry::size() const {
  common::MutexLock lock(mutex_);
  return records_.size();
}

}  // namespace spinel::agent
