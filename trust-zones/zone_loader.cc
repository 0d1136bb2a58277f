#include "trust-zones/zone_loader.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/duration.h"
#include "common/strings.h"
#include "common/yaml_reader.h"
#include "trust-zones/delegation_config.h"
#include "trust-zones/raw_yaml.h"
#include "trust-zones/ttl_yaml.h"

namespace spinel::zones {
namespace {

using common::Quote;
using common::StrCat;
using common::YamlErrors;
using common::YamlMap;
using internal::ParseOptionalTtl;
using internal::ParseTtl;
using internal::RawChild;
using internal::RawItem;

constexpr std::string_view kExtension = ".yaml";
constexpr size_t kMaxZoneNameLength = 63;

SourceLocation LocationOf(const YamlErrors& errors, const YAML::Node& node) {
  return SourceLocation::FromMark(errors.file(),
                                  node.IsDefined() ? node.Mark() : YAML::Mark::null_mark());
}

std::string FileStem(const std::string& file) {
  std::string base = std::filesystem::path(file).filename().string();
  if (base.size() > kExtension.size() && base.ends_with(kExtension)) {
    base.resize(base.size() - kExtension.size());
  }
  return base;
}

bool IsZoneName(std::string_view name) {
  if (name.empty() || name.size() > kMaxZoneNameLength || name[0] < 'a' || name[0] > 'z') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

void ParseIdentity(YamlMap& map, const YAML::Node& root, Zone& zone) {
  zone.name = map.RequiredString("name");
  zone.location = LocationOf(*map.errors(), RawChild(root, "name"));
  if (!map.errors()->ok()) return;
  const std::string stem = FileStem(map.errors()->file());
  if (!IsZoneName(zone.name)) {
    map.Error("name", StrCat("zone name ", Quote(zone.name),
                             " must be a-z, 0-9 and '-', start with a letter, at most 63 bytes"));
  } else if (zone.name != stem) {
    map.Error("name", StrCat("zone ", Quote(zone.name), " must be in a file named ", zone.name,
                             ".yaml, not ", Quote(stem + std::string(kExtension))));
  }
  const std::string td = map.RequiredString("trust_domain");
  zone.trust_domain_location = LocationOf(*map.errors(), RawChild(root, "trust_domain"));
  if (!map.errors()->ok()) return;
  absl::StatusOr<common::TrustDomain> parsed = common::TrustDomain::Parse(td);
  if (!parsed.ok() || td.find(':') != std::string::npos) {
    map.Error("trust_domain", parsed.ok() ? "expected a bare trust domain name, not a SPIFFE ID"
                                          : std::string(parsed.status().message()));
    return;
  }
  zone.trust_domain = *std::move(parsed);
  zone.description = map.String("description").value_or("");
}

// Without wit_svid_ttl: {default: 30m, max: 1h} (WIMSE: short, minutes to hours), both cut to
// half the CA lifetime so the key rotated at half its life still outlives every WIT-SVID.
TtlLimit DefaultWitSvidTtl(std::chrono::milliseconds ca_ttl) {
  const std::chrono::milliseconds max =
      std::min<std::chrono::milliseconds>(kDefaultWitSvidTtl.max_ttl, ca_ttl / 2);
  return {std::min(kDefaultWitSvidTtl.default_ttl, max), max};
}

void ParseLifetimes(YamlMap& map, const YAML::Node& root, Zone& zone) {
  zone.x509_svid_ttl = ParseTtl(map, root, "x509_svid_ttl");
  zone.jwt_svid_ttl = ParseTtl(map, root, "jwt_svid_ttl");
  std::optional<TtlLimit> wit_svid_ttl = ParseOptionalTtl(map, root, "wit_svid_ttl");
  std::optional<std::chrono::milliseconds> ca_ttl = map.Duration("ca_ttl");
  if (!map.errors()->ok()) return;
  if (!ca_ttl) {
    map.Error("ca_ttl", "missing required key");
    return;
  }
  zone.ca_ttl = *ca_ttl;
  zone.wit_svid_ttl = wit_svid_ttl.value_or(DefaultWitSvidTtl(zone.ca_ttl));
  const auto longest =
      std::max({zone.x509_svid_ttl.max_ttl, zone.jwt_svid_ttl.max_ttl, zone.wit_svid_ttl.max_ttl});
  if (zone.ca_ttl < 2 * longest) {
    map.Error("ca_ttl", StrCat("CA lifetime ", common::FormatDuration(zone.ca_ttl),
                               " must be at least twice the longest SVID max TTL (",
                               common::FormatDuration(longest), "), so at least ",
                               common::FormatDuration(2 * longest)));
  }
}

void ParseNodes(YamlMap& map, const YAML::Node& root, Zone& zone) {
  const std::vector<std::string> nodes = map.StringList("nodes");
  for (size_t i = 0; i < nodes.size() && map.errors()->ok(); ++i) {
    absl::StatusOr<common::Selector> selector = common::Selector::Parse(nodes[i]);
    if (!selector.ok()) {
      map.errors()->Add(RawItem(RawChild(root, "nodes"), i), "nodes",
                        std::string(selector.status().message()));
      return;
    }
    zone.nodes.push_back(*std::move(selector));
  }
  common::Normalize(zone.nodes);
}

void ParsePeers(YamlMap& map, const YAML::Node& root, Zone& zone) {
  const std::vector<std::string> peers = map.StringList("peers");
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < peers.size() && map.errors()->ok(); ++i) {
    const YAML::Node item = RawItem(RawChild(root, "peers"), i);
    if (peers[i] == zone.name) {
      map.errors()->Add(item, "peers", "a zone cannot peer with itself");
    } else if (!seen.insert(peers[i]).second) {
      map.errors()->Add(item, "peers", StrCat("peer ", Quote(peers[i]), " is listed twice"));
    }
    zone.declared_peers.push_back({peers[i], LocationOf(*map.errors(), item)});
  }
}

void ParseFederatesWith(YamlMap& map, const YAML::Node& root, Zone& zone) {
  const std::vector<std::string> names = map.StringList("federates_with");
  std::set<std::string, std::less<>> seen;
  for (size_t i = 0; i < names.size() && map.errors()->ok(); ++i) {
    const YAML::Node item = RawItem(RawChild(root, "federates_with"), i);
    absl::StatusOr<common::TrustDomain> td = common::TrustDomain::Parse(names[i]);
    if (!td.ok() || names[i].find(':') != std::string::npos) {
      map.errors()->Add(item, "federates_with",
                        StrCat(Quote(names[i]), ": ",
                               td.ok() ? "expected a bare trust domain name, not a SPIFFE ID"
                                       : std::string(td.status().message())));
    } else if (*td == zone.trust_domain) {
      map.errors()->Add(item, "federates_with",
                        StrCat(Quote(names[i]), " is the zone's own trust domain"));
    } else if (!seen.insert(td->name()).second) {
      map.errors()->Add(item, "federates_with",
                        StrCat("trust domain ", Quote(names[i]), " is listed twice"));
    } else {
      zone.federates_with.push_back({*std::move(td), LocationOf(*map.errors(), item)});
    }
  }
}

void ParseRules(YamlMap& map, const YAML::Node& root, Zone& zone) {
  std::vector<YamlMap> entries = map.MapList("resources");
  const YAML::Node raw = RawChild(root, "resources");
  std::set<std::string, std::less<>> names;
  for (size_t i = 0; i < entries.size() && map.errors()->ok(); ++i) {
    Rule rule = ParseRule(entries[i], RawItem(raw, i), zone.name, i);
    if (map.errors()->ok() && !rule.name.empty() && !names.insert(rule.name).second) {
      entries[i].Error("name", StrCat("rule name ", Quote(rule.name), " is used twice"));
    }
    zone.rules.push_back(std::move(rule));
  }
}

}  // namespace

absl::StatusOr<Zone> ParseZone(const ZoneSource& source) {
  YamlErrors errors(source.file);
  Zone zone;
  try {
    const YAML::Node root = common::LoadYamlString(source.text, &errors);
    YamlMap map(root, "", &errors);
    ParseIdentity(map, root, zone);
    ParseLifetimes(map, root, zone);
    ParseNodes(map, root, zone);
    ParsePeers(map, root, zone);
    ParseFederatesWith(map, root, zone);
    ParseRules(map, root, zone);
    ParseTrustedIssuers(map, root, zone);
    ParseDelegation(map, root, zone);
    map.RejectUnknownKeys();
  } catch (const YAML::Exception& e) {
    errors.AddAtMark(e.mark, "", StrCat("unreadable YAML: ", e.what()));
  }
  if (!errors.ok()) return errors.status();
  return zone;
}

absl::StatusOr<ZoneSet> BuildZoneSet(std::vector<ZoneSource> sources) {
  std::sort(sources.begin(), sources.end(),
            [](const ZoneSource& a, const ZoneSource& b) { return a.file < b.file; });
  std::vector<Zone> zones;
  zones.reserve(sources.size());
  for (const ZoneSource& source : sources) {
    absl::StatusOr<Zone> zone = ParseZone(source);
    if (!zone.ok()) return zone.status();
    zones.push_back(*std::move(zone));
  }
  return ZoneSet::Create(std::move(zones));
}

absl::StatusOr<std::vector<ZoneSource>> ReadZoneDir(const std::string& dir) {
  std::error_code ec;
  std::vector<std::string> paths;
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const std::string base = it->path().filename().string();
    if (base.starts_with(".") || !base.ends_with(kExtension)) continue;
    paths.push_back(it->path().string());
  }
  if (ec) return absl::NotFoundError(StrCat(dir, ": cannot read zone directory: ", ec.message()));
  if (paths.empty()) {
    return absl::InvalidArgumentError(StrCat(dir, ": no zone files (*.yaml) in the directory"));
  }
  std::sort(paths.begin(), paths.end());
  std::vector<ZoneSource> sources;
  for (const std::string& path : paths) {
    std::ifstream in(path);
    std::stringstream text;
    if (in.is_open()) text << in.rdbuf();
    if (!in.is_open() || in.bad() || !std::filesystem::is_regular_file(path, ec)) {
      return absl::NotFoundError(StrCat(path, ": cannot read zone file"));
    }
    sources.push_back({path, text.str()});
  }
  return sources;
}

absl::StatusOr<ZoneSet> LoadZoneDir(const std::string& dir) {
  absl::StatusOr<std::vector<ZoneSource>> sources = ReadZoneDir(dir);
  if (!sources.ok()) return sources.status();
  return BuildZoneSet(*std::move(sources));
}

}  // namespace spinel::zones
