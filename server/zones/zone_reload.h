// Loading the zones directory, and the one reload path of a running server (used by SIGHUP and
// the admin API's ReloadZones).
//
// LoadZoneGeneration reads and validates the whole directory: every zone file (strict, see
// trust-zones/zone_loader.h; errors are InvalidArgument "<file>:<line>:<column>: ..."), plus
// the checks that need the server's configuration: no zone uses the control-plane trust domain
// and every `upstream_authorities` key names a zone; and every trusted issuer's JWKS file is
// read (zones::CheckTrustedIssuerKeys: a zone whose user issuer keys are missing is refused).
// `spinel-server zone validate` runs the same function offline.
//
// ZoneReloader::Reload is all or nothing. In order:
//   1. LoadZoneGeneration (an invalid change is refused whole);
//   2. a zone (trust domain) that disappears, by removing its file or by changing its
//      trust_domain, must have no registration entries left: FailedPrecondition naming the
//      zone and the number of entries;
//   3. the authorities of trust domains that are new are created together
//      (CaManager::AddTrustDomains: the one-root-per-zone upstream rule holds for all of them,
//      or none is added);
//   4. the new generation is swapped in and a kZones event published on the change feed
//      (ChangeFeed::PublishLocal; zones are this replica's files, not in the datastore), which
//      wakes every sync stream, so connected agents are sent the new policy and bundles.
// Any failure leaves the zones in force (and the authorities) as they were. Authorities of
// removed zones are kept (their keys stay on disk; adding the zone back reuses them).
// Reloads are serialized; Reload is thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/mutex.h"
#include "server/ca/ca_manager.h"
#include "server/config.h"
#include "server/datastore/change_feed.h"
#include "server/datastore/datastore.h"
#include "server/zones/zone_state.h"

namespace spinel::server {

// Zone names, each list sorted.
struct ZoneChanges {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  // Zones in both generations whose file text or symmetric peers differ.
  std::vector<std::string> changed;

  bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};

// The zone files of `dir` (zone_loader.h checks only): the set, and the sources with base names.
absl::StatusOr<ZoneGeneration> ReadZoneGeneration(const std::string& dir);
// ReadZoneGeneration(config.zones_dir) plus the checks against `config` described above.
absl::StatusOr<ZoneGeneration> LoadZoneGeneration(const ServerConfig& config);

// The CA configuration of the control plane (first) and of every zone of `zones`, with the
// zone's upstream authority when the config names one.
std::vector<TrustDomainCaConfig> CaConfigs(const ServerConfig& config, const zones::ZoneSet& zones);

// What differs between two generations.
ZoneChanges DiffZones(const ZoneGeneration& before, const ZoneGeneration& after);

class ZoneReloader {
 public:
  ZoneReloader(const ServerConfig& config, Datastore& datastore, ZoneState& zones, CaManager& cas,
               ChangeFeed& feed)
      : config_(config), datastore_(datastore), zones_(zones), cas_(cas), feed_(feed) {}

  // Re-reads config.zones_dir and applies it (steps above). Returns what changed; a reload
  // without changes succeeds with empty lists (and notifies nobody).
  absl::StatusOr<ZoneChanges> Reload();

 private:
  absl::Status CheckRemovals(const zones::ZoneSet& before, const zones::ZoneSet& after);
  absl::Status AddAuthorities(const zones::ZoneSet& next);

  const ServerConfig& config_;
  Datastore& datastore_;
  ZoneState& zones_;
  CaManager& cas_;
  ChangeFeed& feed_;
  common::Mutex mutex_;  // one reload at a time
};

}  // namespace spinel::server
