// `zone list|show|reload|validate`: the trust zones in force, their rules and CA state, reloading
// the zones directory of a running server, and checking a zones directory offline.
//
// `zone validate DIR [--config FILE]` needs no server: it runs the checks the server runs when
// it loads zones (server/zones/zone_reload.h, LoadZoneGeneration): every zone file, and with
// --config also the checks against that server configuration (control-plane trust domain, upstream
// authorities). It prints "N zones OK: a, b, c" (exit 0) or "error: <file>:<line>:<col>: ..."
// (exit 2, as for any invalid input).
#include <iostream>
#include <memory>

#include "common/strings.h"
#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"
#include "server/config.h"
#include "server/zones/zone_reload.h"

namespace spinel::server::cli {
namespace {

using common::StrCat;

struct ZoneFlags {
  CommonFlags common;
  std::string name;    // show
  std::string dir;     // validate
  std::string config;  // validate
};

std::string Join(const google::protobuf::RepeatedPtrField<std::string>& items,
                 std::string_view separator = ", ", std::string_view if_empty = "-") {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : std::string(separator)) + item;
  return out.empty() ? std::string(if_empty) : out;
}

std::vector<std::string> Strings(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return {items.begin(), items.end()};
}

// "30m/1h" (default/max).
std::string TtlPair(int64_t default_seconds, int64_t max_seconds) {
  return StrCat(FormatTtl(default_seconds), "/", FormatTtl(max_seconds));
}

// The authorities that sign now, e.g. "x509 active until ...; jwt active until ...".
std::string CaSummary(const spinel::v1::LocalAuthorities& authorities) {
  std::string out;
  for (const spinel::v1::LocalAuthority& a : authorities.authorities()) {
    if (a.state() != "active") continue;
    out += StrCat(out.empty() ? "" : "; ", a.kind(), " active until ", FormatTime(a.expires_at()));
  }
  return out.empty() ? "no active authority" : out;
}

nlohmann::json ZoneToJson(const spinel::v1::ZoneInfo& zone) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const spinel::v1::Selector& s : zone.nodes()) nodes.push_back(SelectorString(s));
  nlohmann::json rules = nlohmann::json::array();
  for (const spinel::v1::ZoneRule& r : zone.rules()) {
    rules.push_back({{"id", r.id()},
                     {"text", r.text()},
                     {"effect", r.effect()},
                     {"approval_required", r.approval_required()}});
  }
  nlohmann::json authorities = nlohmann::json::array();
  for (const spinel::v1::LocalAuthority& a : zone.authorities().authorities()) {
    authorities.push_back({{"kind", a.kind()},
                           {"state", a.state()},
                           {"id", a.id()},
                           {"not_before", FormatTime(a.not_before(), "")},
                           {"expires_at", FormatTime(a.expires_at(), "")}});
  }
  return {{"name", zone.name()},
          {"trust_domain", zone.trust_domain()},
          {"description", zone.description()},
          {"x509_svid_ttl",
           {{"default_seconds", zone.x509_svid_ttl_default_seconds()},
            {"max_seconds", zone.x509_svid_ttl_max_seconds()}}},
          {"jwt_svid_ttl",
           {{"default_seconds", zone.jwt_svid_ttl_default_seconds()},
            {"max_seconds", zone.jwt_svid_ttl_max_seconds()}}},
          {"wit_svid_ttl",
           {{"default_seconds", zone.wit_svid_ttl_default_seconds()},
            {"max_seconds", zone.wit_svid_ttl_max_seconds()}}},
          {"ca_ttl_seconds", zone.ca_ttl_seconds()},
          {"nodes", nodes},
          {"peers", Strings(zone.peers())},
          {"rules", rules},
          {"authorities", authorities},
          {"entries", zone.entries()}};
}

void PrintZoneTable(const google::protobuf::RepeatedPtrField<spinel::v1::ZoneInfo>& zones) {
  std::vector<std::vector<std::string>> rows;
  for (const spinel::v1::ZoneInfo& z : zones) {
    rows.push_back({z.name(), z.trust_domain(), Join(z.peers(), ","),
                    TtlPair(z.x509_svid_ttl_default_seconds(), z.x509_svid_ttl_max_seconds()),
                    TtlPair(z.jwt_svid_ttl_default_seconds(), z.jwt_svid_ttl_max_seconds()),
                    std::to_string(z.rules_size()), std::to_string(z.entries())});
  }
  PrintTable({"NAME", "TRUST DOMAIN", "PEERS", "X509 TTL (DEFAULT/MAX)", "JWT TTL (DEFAULT/MAX)",
              "RULES", "ENTRIES"},
             rows);
}

void PrintZoneBlock(const spinel::v1::ZoneInfo& z) {
  std::string nodes;
  for (const spinel::v1::Selector& s : z.nodes()) {
    nodes += (nodes.empty() ? "" : ", ") + SelectorString(s);
  }
  PrintFields({{"Name", z.name()},
               {"Trust domain", z.trust_domain()},
               {"Description", z.description().empty() ? "-" : z.description()},
               {"X509-SVID TTL", StrCat(FormatTtl(z.x509_svid_ttl_default_seconds()), " (max ",
                                        FormatTtl(z.x509_svid_ttl_max_seconds()), ")")},
               {"JWT-SVID TTL", StrCat(FormatTtl(z.jwt_svid_ttl_default_seconds()), " (max ",
                                       FormatTtl(z.jwt_svid_ttl_max_seconds()), ")")},
               {"WIT-SVID TTL", StrCat(FormatTtl(z.wit_svid_ttl_default_seconds()), " (max ",
                                       FormatTtl(z.wit_svid_ttl_max_seconds()), ")")},
               {"CA TTL", FormatTtl(z.ca_ttl_seconds())},
               {"Nodes", nodes.empty() ? "any node" : nodes},
               {"Peers", Join(z.peers())},
               {"Entries", std::to_string(z.entries())},
               {"CA", CaSummary(z.authorities())}});
  std::cout << "\nRules (" << z.rules_size() << "; deny wins, then approval, then allow):\n";
  std::vector<std::vector<std::string>> rules;
  for (const spinel::v1::ZoneRule& r : z.rules()) rules.push_back({"  " + r.id(), r.text()});
  if (rules.empty())
    std::cout << "  none (every access is denied)\n";
  else
    PrintTable({"  ID", "RULE"}, rules);
  std::cout << "\nAuthorities of " << z.authorities().trust_domain() << ":\n";
  std::vector<std::vector<std::string>> cas;
  for (const spinel::v1::LocalAuthority& a : z.authorities().authorities()) {
    cas.push_back({"  " + a.kind(), a.state(), a.id(), FormatTime(a.not_before(), "-"),
                   FormatTime(a.expires_at(), "-")});
  }
  PrintTable({"  KIND", "STATE", "ID", "NOT BEFORE", "EXPIRES AT"}, cas);
}

int RunList(const ZoneFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  spinel::v1::ListZonesResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::ListZones, spinel::v1::Empty(), &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    nlohmann::json zones = nlohmann::json::array();
    for (const spinel::v1::ZoneInfo& zone : response.zones()) zones.push_back(ZoneToJson(zone));
    PrintJson({{"zones", zones}});
  } else {
    PrintZoneTable(response.zones());
  }
  return kExitOk;
}

int RunShow(const ZoneFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  if (f.name.empty()) return ReportUsageError("NAME: a zone name is required");
  spinel::v1::ZoneNameRequest request;
  request.set_name(f.name);
  spinel::v1::ZoneInfo zone;
  grpc::Status status = Call(f.common, &spinel::v1::AdminService::Stub::GetZone, request, &zone);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json())
    PrintJson(ZoneToJson(zone));
  else
    PrintZoneBlock(zone);
  return kExitOk;
}

int RunReload(const ZoneFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  spinel::v1::ReloadZonesResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::ReloadZones, spinel::v1::Empty(), &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    nlohmann::json zones = nlohmann::json::array();
    for (const spinel::v1::ZoneInfo& zone : response.zones()) zones.push_back(ZoneToJson(zone));
    PrintJson({{"added", Strings(response.added())},
               {"removed", Strings(response.removed())},
               {"changed", Strings(response.changed())},
               {"zones", zones}});
    return kExitOk;
  }
  if (response.added().empty() && response.removed().empty() && response.changed().empty()) {
    std::cout << "Zones reloaded: no changes (" << response.zones_size() << " zones).\n";
  } else {
    std::cout << "Zones reloaded.\n";
    PrintFields({{"Added", Join(response.added())},
                 {"Removed", Join(response.removed())},
                 {"Changed", Join(response.changed())}});
  }
  std::cout << "\n";
  PrintZoneTable(response.zones());
  return kExitOk;
}

int RunValidate(const ZoneFlags& f) {
  ServerConfig config;
  if (!f.config.empty()) {
    absl::StatusOr<ServerConfig> loaded = LoadServerConfig(f.config);
    if (!loaded.ok()) {
      std::cerr << "error: --config: " << loaded.status().message() << "\n";
      return kExitUsage;
    }
    config = *std::move(loaded);
  }
  config.zones_dir = f.dir;
  absl::StatusOr<ZoneGeneration> generation =
      f.config.empty() ? ReadZoneGeneration(f.dir) : LoadZoneGeneration(config);
  if (!generation.ok()) {
    std::cerr << "error: " << generation.status().message() << "\n";
    return kExitUsage;
  }
  std::string names;
  for (const zones::Zone& zone : generation->set.zones()) {
    names += (names.empty() ? "" : ", ") + zone.name;
  }
  const size_t count = generation->set.zones().size();
  std::cout << count << (count == 1 ? " zone OK: " : " zones OK: ") << names << "\n";
  return kExitOk;
}

CLI::App* AddCommand(CLI::App* group, const char* name, const char* help,
                     std::shared_ptr<ZoneFlags> flags, int (*run)(const ZoneFlags&),
                     int* exit_code) {
  CLI::App* command = group->add_subcommand(name, help);
  command->callback([flags, run, exit_code] { *exit_code = run(*flags); });
  return command;
}

}  // namespace

void RegisterZoneCommands(CLI::App& app, int* exit_code) {
  CLI::App* group = app.add_subcommand("zone", "Trust zones: list, show, reload, validate")
                        ->require_subcommand(1);
  auto list = std::make_shared<ZoneFlags>();
  AddListingFlags(AddCommand(group, "list", "List the zones in force", list, RunList, exit_code),
                  &list->common);
  auto show = std::make_shared<ZoneFlags>();
  CLI::App* show_command =
      AddCommand(group, "show", "Show one zone: lifetimes, nodes, peers, rules, CA state", show,
                 RunShow, exit_code);
  AddListingFlags(show_command, &show->common);
  show_command->add_option("name", show->name, "Zone name")->required();
  auto reload = std::make_shared<ZoneFlags>();
  AddListingFlags(AddCommand(group, "reload",
                             "Re-read the server's zones directory (an invalid change is "
                             "refused whole)",
                             reload, RunReload, exit_code),
                  &reload->common);
  auto validate = std::make_shared<ZoneFlags>();
  CLI::App* validate_command =
      AddCommand(group, "validate", "Check a zones directory offline (no server needed)", validate,
                 RunValidate, exit_code);
  validate_command->add_option("dir", validate->dir, "Zones directory")->required();
  validate_command->add_option("--config", validate->config,
                               "Also check against this server configuration file");
}

}  // namespace spinel::server::cli
