// Test helpers for trust-zone tests: temporary zone directories and the shipped zones.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/fakes/temp_dir.h"
#include "trust-zones/zone_loader.h"

namespace spinel::zones::testing {

// A directory from mkdtemp, removed with its contents on destruction.
using spinel::testing::TempDir;

// A valid zone file for `name` whose trust domain is `td` (default <name>.example.org);
// `extra` is appended from line 6 on.
inline std::string ZoneYaml(const std::string& name, const std::string& extra = "",
                            const std::string& td = "") {
  return "name: " + name + "\n" +                                               // line 1
         "trust_domain: " + (td.empty() ? name + ".example.org" : td) + "\n" +  // line 2
         "x509_svid_ttl: {default: 1h, max: 2h}\n"                              // line 3
         "jwt_svid_ttl: 5m\n"                                                   // line 4
         "ca_ttl: 24h\n" +                                                      // line 5
         extra;                                                                 // line 6 onwards
}

// Writes `files` (name -> text) into a fresh directory and loads it.
inline absl::StatusOr<ZoneSet> LoadFiles(const std::map<std::string, std::string>& files) {
  TempDir dir;
  for (const auto& [name, text] : files) dir.Write(name, text);
  return LoadZoneDir(dir.path());
}

// The shipped default zones: $SPINEL_SOURCE_DIR/trust-zones/zones (set by ctest), else found
// relative to this file.
inline std::string ShippedZonesDir() {
  if (const char* root = std::getenv("SPINEL_SOURCE_DIR"); root != nullptr && *root != '\0') {
    return std::string(root) + "/trust-zones/zones";
  }
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
          "trust-zones" / "zones")
      .string();
}

}  // namespace spinel::zones::testing
