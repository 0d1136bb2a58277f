// Fuzzes the spinel-agent config parser (agent/config.h) on a config file's bytes: no crash,
// every refusal is InvalidArgument naming the file, and an accepted config keeps the
// documented limits (batch size 1..1000, reconnect min <= max, x509pop cert and key
// together, absolute paths).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "agent/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto config = spinel::agent::ParseAgentConfig(input, "/etc/spinel/agent.yaml", "/etc/spinel");
  if (!config.ok()) {
    if (config.status().code() != absl::StatusCode::kInvalidArgument) std::abort();
    if (config.status().message().find("/etc/spinel/agent.yaml") == std::string_view::npos) {
      std::abort();
    }
    return 0;
  }
  if (config->sign_batch_size < 1 || config->sign_batch_size > 1000) std::abort();
  if (config->reconnect_min > config->reconnect_max) std::abort();
  if (config->x509pop_cert_path.empty() != config->x509pop_key_path.empty()) std::abort();
  if (config->data_dir.empty() || config->data_dir[0] != '/') std::abort();
  if (config->socket_path.empty() || config->socket_path[0] != '/') std::abort();
  return 0;
}
