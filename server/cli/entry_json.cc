#include "server/cli/entry_json.h"

#include <set>
#include <string>

#include "common/duration.h"
#include "common/json_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server::cli {
namespace {

using common::StrCat;
using nlohmann::json;

const std::set<std::string>& KnownKeys() {
  static const std::set<std::string> kKeys = {
      "id",           "spiffe_id",       "parent_id",  "selectors", "x509_svid_ttl",
      "jwt_svid_ttl", "dns_names",       "hint",       "admin",     "expires_at",
      "zone",         "revision_number", "created_at", "updated_at"};
  return kKeys;
}

absl::Status Error(const std::string& where, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat(where, ": ", problem));
}

absl::StatusOr<std::string> StringMember(const json& object, const std::string& key,
                                         const std::string& where, bool required) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (required) return Error(where + "." + key, "is required");
    return std::string();
  }
  if (!it->is_string()) return Error(where + "." + key, "must be a string");
  return it->get<std::string>();
}

absl::StatusOr<std::vector<std::string>> StringList(const json& object, const std::string& key,
                                                    const std::string& where) {
  std::vector<std::string> out;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return out;
  if (!it->is_array()) return Error(where + "." + key, "must be an array of strings");
  for (size_t i = 0; i < it->size(); ++i) {
    if (!(*it)[i].is_string()) return Error(StrCat(where, ".", key, "[", i, "]"), "not a string");
    out.push_back((*it)[i].get<std::string>());
  }
  return out;
}

// A TTL: a duration string ("30m") or non-negative whole seconds.
absl::StatusOr<int64_t> TtlMember(const json& object, const std::string& key,
                                  const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_unsigned()) return it->get<int64_t>();
  if (it->is_string()) return ParseTtlFlag(where + "." + key, it->get<std::string>());
  return Error(where + "." + key, "must be a duration string like \"30m\" or whole seconds");
}

absl::StatusOr<int64_t> TimeMember(const json& object, const std::string& key,
                                   const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return 0;
  if (it->is_number_unsigned()) return it->get<int64_t>();
  if (it->is_string()) return ParseTimeFlag(where + "." + key, it->get<std::string>());
  return Error(where + "." + key, "must be an RFC 3339 UTC time or Unix seconds");
}

absl::Status ParseIds(const json& object, const std::string& where, spinel::v1::Entry* entry) {
  SPINEL_ASSIGN_OR_RETURN(std::string id, StringMember(object, "id", where, false));
  SPINEL_ASSIGN_OR_RETURN(std::string spiffe_id, StringMember(object, "spiffe_id", where, true));
  SPINEL_ASSIGN_OR_RETURN(std::string parent_id, StringMember(object, "parent_id", where, true));
  SPINEL_RETURN_IF_ERROR(ParseIdFlag(where + ".spiffe_id", spiffe_id).status());
  SPINEL_RETURN_IF_ERROR(ParseIdFlag(where + ".parent_id", parent_id).status());
  entry->set_id(id);
  entry->set_spiffe_id(spiffe_id);
  entry->set_parent_id(parent_id);
  return absl::OkStatus();
}

absl::Status ParseLists(const json& object, const std::string& where, spinel::v1::Entry* entry) {
  SPINEL_ASSIGN_OR_RETURN(std::vector<std::string> selectors,
                          StringList(object, "selectors", where));
  if (selectors.empty()) return Error(where + ".selectors", "at least one selector is required");
  for (size_t i = 0; i < selectors.size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(common::Selector selector,
                            ParseSelectorFlag(StrCat(where, ".selectors[", i, "]"), selectors[i]));
    spinel::v1::Selector* out = entry->add_selectors();
    out->set_type(selector.type);
    out->set_value(selector.value);
  }
  SPINEL_ASSIGN_OR_RETURN(std::vector<std::string> dns, StringList(object, "dns_names", where));
  for (std::string& name : dns) entry->add_dns_names(std::move(name));
  return absl::OkStatus();
}

absl::StatusOr<spinel::v1::Entry> ParseEntry(const json& object, const std::string& where) {
  if (!object.is_object()) return Error(where, "must be an object");
  for (const auto& [key, value] : object.items()) {
    if (KnownKeys().count(key) == 0) {
      return Error(StrCat(where, ".", key), "unknown key (see `entry create --help`)");
    }
  }
  spinel::v1::Entry entry;
  SPINEL_RETURN_IF_ERROR(ParseIds(object, where, &entry));
  SPINEL_RETURN_IF_ERROR(ParseLists(object, where, &entry));
  SPINEL_ASSIGN_OR_RETURN(int64_t x509_ttl, TtlMember(object, "x509_svid_ttl", where));
  SPINEL_ASSIGN_OR_RETURN(int64_t jwt_ttl, TtlMember(object, "jwt_svid_ttl", where));
  SPINEL_ASSIGN_OR_RETURN(int64_t expires_at, TimeMember(object, "expires_at", where));
  SPINEL_ASSIGN_OR_RETURN(std::string hint, StringMember(object, "hint", where, false));
  entry.set_x509_svid_ttl_seconds(x509_ttl);
  entry.set_jwt_svid_ttl_seconds(jwt_ttl);
  entry.set_expires_at(expires_at);
  entry.set_hint(hint);
  auto admin = object.find("admin");
  if (admin != object.end() && !admin->is_null()) {
    if (!admin->is_boolean()) return Error(where + ".admin", "must be true or false");
    entry.set_admin(admin->get<bool>());
  }
  return entry;
}

}  // namespace

absl::StatusOr<spinel::v1::CreateEntriesRequest> ParseEntriesJson(std::string_view text) {
  json document;
  try {
    document = json::parse(text);
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(StrCat("not valid JSON: ", common::Quote(e.what(), 512)));
  }
  // Strict on top of the syntax check above (which gives the line and column): a member given
  // twice would otherwise silently drop the first, and absurd nesting is refused.
  if (absl::Status strict = common::ParseJson(text, "document", text.size()).status();
      !strict.ok()) {
    return strict;
  }
  if (!document.is_object()) return Error("document", "must be an object {\"entries\": [...]}");
  for (const auto& [key, value] : document.items()) {
    if (key != "entries") return Error(key, "unknown key; expected only \"entries\"");
  }
  auto entries = document.find("entries");
  if (entries == document.end() || !entries->is_array() || entries->empty()) {
    return Error("entries", "must be a non-empty array of entries");
  }
  spinel::v1::CreateEntriesRequest request;
  for (size_t i = 0; i < entries->size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(*request.add_entries(),
                            ParseEntry((*entries)[i], StrCat("entries[", i, "]")));
  }
  return request;
}

nlohmann::json EntryToJson(const spinel::v1::Entry& entry) {
  json selectors = json::array();
  for (const spinel::v1::Selector& s : entry.selectors()) selectors.push_back(SelectorString(s));
  json dns = json::array();
  for (const std::string& name : entry.dns_names()) dns.push_back(name);
  json out = {
      {"id", entry.id()},
      {"spiffe_id", entry.spiffe_id()},
      {"parent_id", entry.parent_id()},
      {"selectors", selectors},
      {"zone", entry.zone()},
      {"x509_svid_ttl",
       common::FormatDuration(std::chrono::seconds(entry.x509_svid_ttl_seconds()))},
      {"jwt_svid_ttl", common::FormatDuration(std::chrono::seconds(entry.jwt_svid_ttl_seconds()))},
      {"dns_names", dns},
      {"hint", entry.hint()},
      {"admin", entry.admin()},
      {"expires_at", nullptr},
      {"revision_number", entry.revision_number()},
      {"created_at", FormatTime(entry.created_at(), "")},
      {"updated_at", FormatTime(entry.updated_at(), "")}};
  if (entry.expires_at() != 0) out["expires_at"] = FormatTime(entry.expires_at());
  return out;
}

Fields EntryFields(const spinel::v1::Entry& entry) {
  Fields fields = {{"Entry ID", entry.id()},
                   {"SPIFFE ID", entry.spiffe_id()},
                   {"Parent ID", entry.parent_id()},
                   {"Zone", entry.zone()},
                   {"Revision", std::to_string(entry.revision_number())},
                   {"X509-SVID TTL", FormatTtl(entry.x509_svid_ttl_seconds())},
                   {"JWT-SVID TTL", FormatTtl(entry.jwt_svid_ttl_seconds())},
                   {"Expires at", FormatTime(entry.expires_at())}};
  for (const spinel::v1::Selector& s : entry.selectors()) {
    fields.emplace_back("Selector", SelectorString(s));
  }
  for (const std::string& name : entry.dns_names()) fields.emplace_back("DNS name", name);
  if (!entry.hint().empty()) fields.emplace_back("Hint", entry.hint());
  if (entry.admin()) fields.emplace_back("Admin", "yes");
  return fields;
}

}  // namespace spinel::server::cli
