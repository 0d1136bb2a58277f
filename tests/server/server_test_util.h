// Small helpers shared by the server unit tests that work on ServerFixture directly (registry,
// issuer, node attestation, agent auth, agent sync): parsing IDs, building entries and agent
// records, and pinning a zone to nodes. Failures abort the current doctest case (REQUIRE).
#pragma once

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/selector.h"
#include "common/spiffe_id.h"
#include "server/datastore/types.h"
#include "tests/server/server_fixture.h"
#include "trust-zones/zone.h"

namespace spinel::server::testing {

inline constexpr char kFixtureAgent[] =
    "spiffe://spinel.ai.example.org/spinel/agent/join_token/node-1";
inline constexpr char kFixtureOtherAgent[] =
    "spiffe://spinel.ai.example.org/spinel/agent/join_token/node-2";
inline constexpr char kModelServer[] = "spiffe://inference.ai.example.org/model-server";
inline constexpr char kToolRunner[] = "spiffe://tools.ai.example.org/runner";

inline common::SpiffeId Id(const std::string& text) {
  absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(text);
  REQUIRE_MESSAGE(id.ok(), id.status().ToString());
  return *id;
}

inline common::TrustDomain Td(const std::string& text) {
  absl::StatusOr<common::TrustDomain> td = common::TrustDomain::Parse(text);
  REQUIRE_MESSAGE(td.ok(), td.status().ToString());
  return *td;
}

inline common::SelectorSet Selectors(const std::vector<std::string>& texts) {
  common::SelectorSet out;
  for (const std::string& text : texts) {
    absl::StatusOr<common::Selector> selector = common::Selector::Parse(text);
    REQUIRE_MESSAGE(selector.ok(), selector.status().ToString());
    out.push_back(*selector);
  }
  common::Normalize(out);
  return out;
}

// An entry for `spiffe_id` under `parent` with selector unix:uid:1000.
inline RegistrationEntry Entry(const std::string& spiffe_id,
                               const std::string& parent = kFixtureAgent) {
  RegistrationEntry entry;
  entry.spiffe_id = Id(spiffe_id);
  entry.parent_id = Id(parent);
  entry.selectors = Selectors({"unix:uid:1000"});
  return entry;
}

// Stores an attested-agent record (as the agent API does after attestation).
inline AttestedAgent StoreAgent(Datastore& datastore, const std::string& id,
                                const std::vector<std::string>& node_selectors = {},
                                const std::string& serial = "01") {
  AttestedAgent agent{.spiffe_id = Id(id),
                      .attestation_type = "join_token",
                      .serial_number = serial,
                      .svid_expires_at = 4'000'000'000,
                      .selectors = Selectors(node_selectors)};
  absl::StatusOr<AttestedAgent> stored = datastore.CreateAttestedAgent(agent);
  REQUIRE_MESSAGE(stored.ok(), stored.status().ToString());
  return *stored;
}

// A copy of the shipped zones in a fresh directory under `dir`, with zone file `zone_file`
// ("inference.yaml") limited to nodes that have all of `nodes`; pass the returned directory as
// ServerFixtureOptions::zones_dir.
inline std::string PinnedZonesDir(const TempDirectory& dir, const std::string& zone_file,
                                  const std::vector<std::string>& nodes) {
  namespace fs = std::filesystem;
  const fs::path out = fs::path(dir.path()) / "zones";
  fs::create_directories(out);
  bool pinned = false;
  for (const fs::directory_entry& file : fs::directory_iterator(ShippedZonesDir())) {
    std::ifstream in(file.path());
    std::stringstream text;
    text << in.rdbuf();
    std::string yaml = text.str();
    if (file.path().filename() == zone_file) {
      std::string list;
      for (const std::string& node : nodes) list += (list.empty() ? "" : ", ") + node;
      const size_t at = yaml.find("\nnodes: []");
      REQUIRE(at != std::string::npos);
      yaml.replace(at, 11, "\nnodes: [" + list + "]");
      pinned = true;
    }
    std::ofstream(out / file.path().filename()) << yaml;
  }
  REQUIRE(pinned);
  return out.string();
}

// A fixture whose zone `zone_file` is pinned to `nodes` (PinnedZonesDir in `dir`).
inline ServerFixtureOptions PinnedOptions(const TempDirectory& dir, const std::string& zone_file,
                                          const std::vector<std::string>& nodes) {
  ServerFixtureOptions options;
  options.zones_dir = PinnedZonesDir(dir, zone_file, nodes);
  return options;
}

inline int64_t EntryCount(Datastore& datastore) {
  absl::StatusOr<int64_t> count = datastore.CountEntries(EntryFilter{});
  REQUIRE(count.ok());
  return *count;
}

// `text` is a std::string, std::string_view or absl::string_view (not the same type here).
template <typename Text>
inline bool Contains(const Text& text, std::string_view part) {
  return std::string_view(text.data(), text.size()).find(part) != std::string_view::npos;
}

}  // namespace spinel::server::testing
