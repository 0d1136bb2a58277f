// Server: the composition root of spinel-server. Start() opens the datastore, loads the zones,
// opens the authorities of the control plane and of every zone, issues the server's own SVID,
// and starts the agent API (gRPC over TLS), the admin API (gRPC on a Unix socket) and the HTTPS
// listener, plus the background rotation of CAs and of the server SVID.
//
// The bound addresses are logged and written to <data_dir>/agent-api.addr and https.addr (so
// port 0 works for tests). Shutdown() stops everything in reverse order; Wait() blocks until
// Shutdown() is called (from a signal handler thread, for example).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "server/config.h"
#include "server/zones/zone_reload.h"

namespace spinel::server {

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerConfig config,
                                                       const common::Clock& clock);
  ~Server();

  // Blocks until Shutdown() has run.
  void Wait();
  void Shutdown();
  // Re-reads the zone files (ZoneReloader::Reload, zone_reload.h); an invalid change is refused
  // whole and the old zones stay.
  absl::StatusOr<ZoneChanges> ReloadZones();

  int agent_api_port() const;
  int https_port() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace spinel::server
