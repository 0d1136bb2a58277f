// Fuzzes the spinel-server config parser (server/config.h) on a config file's bytes: no crash,
// every refusal is InvalidArgument naming the file, and an accepted config keeps the
// documented limits (durations within ca_ttl, approval_ttl 1s..24h, a sqlite or postgres
// datastore, absolute paths).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto config = spinel::server::ParseServerConfig(input, "/etc/spinel/server.yaml", "/etc/spinel");
  if (!config.ok()) {
    if (config.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    if (config.status().message().find("/etc/spinel/server.yaml") == std::string_view::npos) {
      std::abort();
    }
    return 0;
  }
  if (config->agent_svid_ttl * 2 > config->ca_ttl) std::abort();
  if (config->server_svid_ttl * 2 > config->ca_ttl) std::abort();
  if (config->approval_ttl < std::chrono::seconds(1) ||
      config->approval_ttl > std::chrono::hours(24)) {
    std::abort();
  }
  if (config->datastore.rfind("sqlite:/", 0) != 0 && config->datastore.rfind("postgres", 0) != 0) {
    std::abort();
  }
  if (config->data_dir.empty() || config->data_dir[0] != '/') std::abort();
  if (config->zones_dir.empty() || config->zones_dir[0] != '/') std::abort();
  if (config->max_concurrent_signings < 1) std::abort();
  return 0;
}
