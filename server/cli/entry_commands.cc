// `entry create|update|delete|show|count`: registration entries.
#include <iostream>
#include <memory>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"
#include "server/cli/entry_json.h"

namespace spinel::server::cli {
namespace {

using common::StrCat;

constexpr const char* kEntryFieldFlags[] = {"--spiffe-id", "--parent-id", "--selector",
                                            "--x509-ttl",  "--jwt-ttl",   "--dns",
                                            "--hint",      "--admin",     "--expires-at"};

struct EntryFlags {
  CommonFlags common;
  CLI::App* command = nullptr;
  std::string id, spiffe_id, parent_id, x509_ttl, jwt_ttl, hint, expires_at, data, zone;
  std::vector<std::string> selectors, dns;
  bool admin = false;

  bool Given(const char* flag) const {
    const CLI::Option* option = command->get_option_no_throw(flag);
    return option != nullptr && option->count() > 0;
  }
  bool AnyEntryFieldGiven() const {
    for (const char* flag : kEntryFieldFlags) {
      if (Given(flag)) return true;
    }
    return false;
  }
};

// Writes every entry flag that was given into `entry`, validating each value.
absl::Status ApplyFlags(const EntryFlags& f, spinel::v1::Entry* entry) {
  if (f.Given("--spiffe-id")) {
    SPINEL_RETURN_IF_ERROR(ParseIdFlag("--spiffe-id", f.spiffe_id).status());
    entry->set_spiffe_id(f.spiffe_id);
  }
  if (f.Given("--parent-id")) {
    SPINEL_RETURN_IF_ERROR(ParseIdFlag("--parent-id", f.parent_id).status());
    entry->set_parent_id(f.parent_id);
  }
  if (f.Given("--selector")) {
    entry->clear_selectors();
    for (const std::string& text : f.selectors) {
      SPINEL_ASSIGN_OR_RETURN(common::Selector selector, ParseSelectorFlag("--selector", text));
      spinel::v1::Selector* out = entry->add_selectors();
      out->set_type(selector.type);
      out->set_value(selector.value);
    }
  }
  if (f.Given("--x509-ttl")) {
    SPINEL_ASSIGN_OR_RETURN(int64_t ttl, ParseTtlFlag("--x509-ttl", f.x509_ttl));
    entry->set_x509_svid_ttl_seconds(ttl);
  }
  if (f.Given("--jwt-ttl")) {
    SPINEL_ASSIGN_OR_RETURN(int64_t ttl, ParseTtlFlag("--jwt-ttl", f.jwt_ttl));
    entry->set_jwt_svid_ttl_seconds(ttl);
  }
  if (f.Given("--expires-at")) {
    SPINEL_ASSIGN_OR_RETURN(int64_t at, ParseTimeFlag("--expires-at", f.expires_at));
    entry->set_expires_at(at);
  }
  if (f.Given("--dns")) entry->mutable_dns_names()->Assign(f.dns.begin(), f.dns.end());
  if (f.Given("--hint")) entry->set_hint(f.hint);
  if (f.Given("--admin")) entry->set_admin(f.admin);
  return absl::OkStatus();
}

absl::StatusOr<spinel::v1::CreateEntriesRequest> CreateRequest(const EntryFlags& f) {
  if (f.Given("--data")) {
    if (f.AnyEntryFieldGiven()) {
      return absl::InvalidArgumentError("--data: cannot be combined with entry field flags");
    }
    absl::StatusOr<std::string> text = common::ReadFile(f.data);
    if (!text.ok()) return absl::InvalidArgumentError(StrCat("--data: ", text.status().message()));
    absl::StatusOr<spinel::v1::CreateEntriesRequest> request = ParseEntriesJson(*text);
    if (!request.ok()) {
      return absl::InvalidArgumentError(
          StrCat("--data ", f.data, ": ", request.status().message()));
    }
    return request;
  }
  spinel::v1::CreateEntriesRequest request;
  spinel::v1::Entry* entry = request.add_entries();
  SPINEL_RETURN_IF_ERROR(ApplyFlags(f, entry));
  if (!f.Given("--spiffe-id")) return absl::InvalidArgumentError("--spiffe-id: is required");
  if (!f.Given("--parent-id")) return absl::InvalidArgumentError("--parent-id: is required");
  if (!f.Given("--selector")) {
    return absl::InvalidArgumentError("--selector: at least one is required");
  }
  return request;
}

void PrintEntries(const std::vector<const spinel::v1::Entry*>& entries, const CommonFlags& c) {
  if (c.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const spinel::v1::Entry* entry : entries) list.push_back(EntryToJson(*entry));
    PrintJson({{"entries", list}});
    return;
  }
  std::cout << "Found " << entries.size() << (entries.size() == 1 ? " entry" : " entries") << "\n";
  for (const spinel::v1::Entry* entry : entries) {
    std::cout << "\n";
    PrintFields(EntryFields(*entry));
  }
}

int PrintCreateResults(const spinel::v1::CreateEntriesResponse& response, const CommonFlags& c) {
  int failed = 0;
  nlohmann::json results = nlohmann::json::array();
  for (int i = 0; i < response.results_size(); ++i) {
    const spinel::v1::EntryResult& result = response.results(i);
    if (result.error_code() == 0) {
      results.push_back({{"status", "created"}, {"entry", EntryToJson(result.entry())}});
      if (!c.json()) {
        if (i > 0) std::cout << "\n";
        PrintFields(EntryFields(result.entry()));
      }
      continue;
    }
    ++failed;
    std::string code = CodeName(static_cast<grpc::StatusCode>(result.error_code()));
    results.push_back({{"status", "error"},
                       {"code", code},
                       {"message", result.error()},
                       {"spiffe_id", result.entry().spiffe_id()}});
    std::string where = response.results_size() == 1
                            ? ""
                            : StrCat("entries[", i, "] (", result.entry().spiffe_id(), "): ");
    std::cerr << "error: " << where << code << ": " << result.error() << "\n";
  }
  if (c.json()) PrintJson({{"results", results}});
  return failed == 0 ? kExitOk : kExitServerError;
}

int RunCreate(const EntryFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  absl::StatusOr<spinel::v1::CreateEntriesRequest> request = CreateRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  spinel::v1::CreateEntriesResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::CreateEntries, *request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  return PrintCreateResults(response, f.common);
}

int RunUpdate(const EntryFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  if (f.id.empty()) return ReportUsageError("--id: the entry to update is required");
  spinel::v1::Entry changes;
  if (absl::Status ok = ApplyFlags(f, &changes); !ok.ok()) return ReportUsageError(ok);
  if (!f.AnyEntryFieldGiven()) return ReportUsageError("nothing to change: give entry flags");
  // Fields not given keep their stored values; the stored revision guards against a
  // concurrent change (ABORTED).
  spinel::v1::EntryIdRequest get;
  get.set_id(f.id);
  spinel::v1::UpdateEntryRequest update;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::GetEntry, get, update.mutable_entry());
  if (!status.ok()) return ReportServerError(status, f.common);
  (void)ApplyFlags(f, update.mutable_entry());
  spinel::v1::Entry updated;
  status = Call(f.common, &spinel::v1::AdminService::Stub::UpdateEntry, update, &updated);
  if (!status.ok()) return ReportServerError(status, f.common);
  PrintEntries({&updated}, f.common);
  return kExitOk;
}

int RunDelete(const EntryFlags& f) {
  if (f.id.empty()) return ReportUsageError("--id: the entry to delete is required");
  spinel::v1::EntryIdRequest request;
  request.set_id(f.id);
  spinel::v1::Empty response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::DeleteEntry, request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  std::cout << "Deleted entry " << f.id << "\n";
  return kExitOk;
}

absl::StatusOr<spinel::v1::ListEntriesRequest> FilterRequest(const EntryFlags& f) {
  spinel::v1::ListEntriesRequest request;
  if (f.Given("--spiffe-id")) {
    SPINEL_RETURN_IF_ERROR(ParseIdFlag("--spiffe-id", f.spiffe_id).status());
    request.set_by_spiffe_id(f.spiffe_id);
  }
  if (f.Given("--parent-id")) {
    SPINEL_RETURN_IF_ERROR(ParseIdFlag("--parent-id", f.parent_id).status());
    request.set_by_parent_id(f.parent_id);
  }
  if (f.Given("--zone")) {
    if (f.zone.empty()) return absl::InvalidArgumentError("--zone: must not be empty");
    request.set_by_zone(f.zone);
  }
  return request;
}

int RunShow(const EntryFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  absl::StatusOr<spinel::v1::ListEntriesRequest> filter = FilterRequest(f);
  if (!filter.ok()) return ReportUsageError(filter.status());
  grpc::Status status;
  spinel::v1::ListEntriesResponse list;
  if (f.Given("--id")) {
    if (f.Given("--spiffe-id") || f.Given("--parent-id") || f.Given("--zone")) {
      return ReportUsageError("--id: cannot be combined with --spiffe-id, --parent-id or --zone");
    }
    spinel::v1::EntryIdRequest request;
    request.set_id(f.id);
    status = Call(f.common, &spinel::v1::AdminService::Stub::GetEntry, request, list.add_entries());
  } else {
    status = Call(f.common, &spinel::v1::AdminService::Stub::ListEntries, *filter, &list);
  }
  if (!status.ok()) return ReportServerError(status, f.common);
  std::vector<const spinel::v1::Entry*> entries;
  for (const spinel::v1::Entry& entry : list.entries()) entries.push_back(&entry);
  PrintEntries(entries, f.common);
  return kExitOk;
}

int RunCount(const EntryFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  absl::StatusOr<spinel::v1::ListEntriesRequest> filter = FilterRequest(f);
  if (!filter.ok()) return ReportUsageError(filter.status());
  spinel::v1::CountResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::CountEntries, *filter, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    PrintJson({{"count", response.count()}});
  } else {
    std::cout << response.count() << (response.count() == 1 ? " entry" : " entries") << "\n";
  }
  return kExitOk;
}

void AddFieldFlags(CLI::App* command, EntryFlags* f) {
  command->add_option("--spiffe-id", f->spiffe_id, "SPIFFE ID the workloads get");
  command->add_option("--parent-id", f->parent_id, "Agent or node-alias ID the entry is under");
  command->add_option("--selector", f->selectors,
                      "type:value selector (repeatable, all must match)");
  command->add_option("--x509-ttl", f->x509_ttl, "X509-SVID lifetime, e.g. 30m (0s: zone default)");
  command->add_option("--jwt-ttl", f->jwt_ttl, "JWT-SVID lifetime, e.g. 5m (0s: zone default)");
  command->add_option("--dns", f->dns, "DNS name for the X509-SVID (repeatable)");
  command->add_option("--hint", f->hint, "Hint for workloads holding several SVIDs");
  command->add_flag("--admin,!--no-admin", f->admin, "Mark the entry admin (or not)");
  command->add_option("--expires-at", f->expires_at,
                      "When the entry expires: RFC 3339 UTC, Unix seconds, or never");
}

void AddFilterFlags(CLI::App* command, EntryFlags* f) {
  command->add_option("--spiffe-id", f->spiffe_id, "Only entries with this SPIFFE ID");
  command->add_option("--parent-id", f->parent_id, "Only entries under this parent");
  command->add_option("--zone", f->zone, "Only entries of this zone (name or trust domain)");
}

// Adds `entry <name>`, whose callback runs `run` with its own flags.
EntryFlags* AddEntryCommand(CLI::App* entry, const char* name, const char* help, int* exit_code,
                            int (*run)(const EntryFlags&)) {
  auto flags = std::make_shared<EntryFlags>();
  flags->command = entry->add_subcommand(name, help);
  flags->command->callback([flags, exit_code, run] { *exit_code = run(*flags); });
  return flags.get();
}

}  // namespace

void RegisterEntryCommands(CLI::App& app, int* exit_code) {
  CLI::App* entry = app.add_subcommand("entry", "Registration entries")->require_subcommand(1);
  EntryFlags* create = AddEntryCommand(entry, "create", "Create an entry (or a batch: --data)",
                                       exit_code, RunCreate);
  AddListingFlags(create->command, &create->common);
  AddFieldFlags(create->command, create);
  create->command->add_option("--data", create->data, "JSON file with a batch of entries");
  create->command->footer(kEntriesJsonHelp);
  EntryFlags* update =
      AddEntryCommand(entry, "update", "Change fields of an entry", exit_code, RunUpdate);
  AddListingFlags(update->command, &update->common);
  update->command->add_option("--id", update->id, "Entry ID (required)");
  AddFieldFlags(update->command, update);
  EntryFlags* remove = AddEntryCommand(entry, "delete", "Delete an entry", exit_code, RunDelete);
  AddSocketFlag(remove->command, &remove->common);
  remove->command->add_option("--id", remove->id, "Entry ID (required)");
  EntryFlags* show = AddEntryCommand(entry, "show", "Show entries", exit_code, RunShow);
  AddListingFlags(show->command, &show->common);
  show->command->add_option("--id", show->id, "Only this entry");
  AddFilterFlags(show->command, show);
  EntryFlags* count = AddEntryCommand(entry, "count", "Count entries", exit_code, RunCount);
  AddListingFlags(count->command, &count->common);
  AddFilterFlags(count->command, count);
}

}  // namespace spinel::server::cli
