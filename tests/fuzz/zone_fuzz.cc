// Fuzzes the trust-zone loader on one zone file's bytes (trust-zones/zone_loader.h): ParseZone
// and BuildZoneSet on a single source. No crash, every refusal is InvalidArgument (the
// documented "<file>:<line>:<column>: <key path>: <problem>"), and an accepted zone keeps the
// loader's invariants (name matches the file, TTL defaults within their max).
//
// The file name must match the zone's name, so the harness names the file after the first
// "name: X" line of the input (or "zone.yaml"), as an operator's file would be.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "trust-zones/zone_loader.h"

namespace {

std::string FileNameFor(std::string_view input) {
  size_t pos = 0;
  while (pos < input.size()) {
    size_t eol = input.find('\n', pos);
    std::string_view line = input.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    if (line.rfind("name:", 0) == 0) {
      size_t start = line.find_first_not_of(' ', 5);
      if (start == std::string_view::npos) break;
      std::string name(line.substr(start, line.find_first_of(" \r#", start) - start));
      if (name.empty() || name.size() > 63 || name.find('/') != std::string::npos) break;
      return name + ".yaml";
    }
    if (eol == std::string_view::npos) break;
    pos = eol + 1;
  }
  return "zone.yaml";
}

void CheckRefusal(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  spinel::zones::ZoneSource source{"/zones/" + FileNameFor(input), std::string(input)};
  auto zone = spinel::zones::ParseZone(source);
  if (!zone.ok()) {
    CheckRefusal(zone.status());
    return 0;
  }
  if (source.file != "/zones/" + zone->name + ".yaml") std::abort();
  for (const auto* ttl : {&zone->x509_svid_ttl, &zone->jwt_svid_ttl}) {
    if (ttl->default_ttl > ttl->max_ttl || ttl->default_ttl.count() <= 0) std::abort();
    if (zone->ca_ttl < 2 * ttl->max_ttl) std::abort();
  }
  auto set = spinel::zones::BuildZoneSet({source});
  if (!set.ok()) CheckRefusal(set.status());
  return 0;
}
