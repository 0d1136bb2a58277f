// `federation create|update|delete|list|show|refresh`: relationships with foreign trust
// domains (SPIFFE federation) and their fetched bundles.
//
// Flag values are checked here with the server's own rules (server/federation/
// federation_convert.h) before anything is sent: a bad value exits 2 naming the flag (and the
// file for --web-ca-file / --bundle-file). `update` reads the stored relationship and changes
// only the flags given; switching the profile drops the other profile's setting unless it is
// given too (https_web keeps no endpoint SPIFFE ID, https_spiffe no web CAs). `--web-ca-file ''`
// goes back to the system roots. The initial bundle (`--bundle-file`, a SPIFFE bundle JSON as
// `bundle show --format spiffe` prints it) is given on create only; later bundles come from the
// endpoint. `refresh` fetches now and exits 1 when that attempt failed.
#include <iostream>
#include <memory>

#include "common/bundle.h"
#include "common/certificate.h"
#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"
#include "server/federation/federation_convert.h"

namespace spinel::server::cli {
namespace {

using common::StrCat;
using Relationship = spinel::v1::FederationRelationship;
using Stub = spinel::v1::AdminService::Stub;

constexpr const char* kFieldFlags[] = {"--endpoint-url", "--profile", "--endpoint-spiffe-id",
                                       "--web-ca-file"};

struct FederationFlags {
  CommonFlags common;
  CLI::App* command = nullptr;
  std::string trust_domain, endpoint_url, profile, endpoint_spiffe_id, web_ca_file, bundle_file;

  bool Given(const char* flag) const {
    const CLI::Option* option = command->get_option_no_throw(flag);
    return option != nullptr && option->count() > 0;
  }
};

// Maps a request field error of federation_convert.h ("<field>: ...") to the flag that set it.
absl::Status AsFlagError(const absl::Status& status, const FederationFlags& f) {
  struct FieldFlag {
    std::string_view field, flag;
    const std::string* file;
  };
  const FieldFlag kMap[] = {{"trust_domain", "--trust-domain", nullptr},
                            {"bundle_endpoint_url", "--endpoint-url", nullptr},
                            {"profile", "--profile", nullptr},
                            {"endpoint_spiffe_id", "--endpoint-spiffe-id", nullptr},
                            {"web_ca_pem", "--web-ca-file", &f.web_ca_file},
                            {"initial_bundle", "--bundle-file", &f.bundle_file}};
  const std::string message(status.message());
  for (const FieldFlag& entry : kMap) {
    const std::string prefix = StrCat(entry.field, ": ");
    if (message.substr(0, prefix.size()) != prefix) continue;
    std::string where(entry.flag);
    if (entry.file != nullptr && f.Given(std::string(entry.flag).c_str())) {
      where += " " + *entry.file;
    }
    return absl::InvalidArgumentError(StrCat(where, ": ", message.substr(prefix.size())));
  }
  return status;
}

absl::StatusOr<std::string> ReadFlagFile(std::string_view flag, const std::string& path) {
  if (path.empty()) return absl::InvalidArgumentError(StrCat(flag, ": a file name is required"));
  absl::StatusOr<std::string> text = common::ReadFile(path);
  if (!text.ok()) return absl::InvalidArgumentError(StrCat(flag, ": ", text.status().message()));
  return text;
}

// Writes the relationship flags that were given into `out`.
absl::Status ApplyFlags(const FederationFlags& f, Relationship* out) {
  if (f.Given("--endpoint-url")) out->set_bundle_endpoint_url(f.endpoint_url);
  if (f.Given("--profile")) out->set_profile(f.profile);
  if (f.Given("--endpoint-spiffe-id")) out->set_endpoint_spiffe_id(f.endpoint_spiffe_id);
  if (f.Given("--web-ca-file")) {
    if (f.web_ca_file.empty()) {
      out->clear_web_ca_pem();  // back to the system roots
    } else {
      SPINEL_ASSIGN_OR_RETURN(std::string pem, ReadFlagFile("--web-ca-file", f.web_ca_file));
      out->set_web_ca_pem(std::move(pem));
    }
  }
  return absl::OkStatus();
}

// The server's checks of `relationship` (and `initial_bundle`), as flag errors.
absl::Status CheckLocally(const FederationFlags& f, const Relationship& relationship,
                          const std::string& initial_bundle) {
  absl::StatusOr<FederationRelationship> parsed = FederationRelationshipFromProto(relationship);
  if (!parsed.ok()) return AsFlagError(parsed.status(), f);
  if (!initial_bundle.empty()) {
    absl::Status bundle = InitialBundleRecord(parsed->trust_domain, initial_bundle).status();
    if (!bundle.ok()) return AsFlagError(bundle, f);
  }
  return absl::OkStatus();
}

absl::StatusOr<spinel::v1::TrustDomainRequest> TrustDomainRequest(const FederationFlags& f) {
  SPINEL_RETURN_IF_ERROR(CheckOutputFlag(f.common));
  SPINEL_ASSIGN_OR_RETURN(common::TrustDomain td,
                          ParseTrustDomainFlag("--trust-domain", f.trust_domain));
  spinel::v1::TrustDomainRequest request;
  request.set_trust_domain(td.name());
  return request;
}

absl::StatusOr<spinel::v1::CreateFederationRelationshipRequest> CreateRequest(
    const FederationFlags& f) {
  SPINEL_ASSIGN_OR_RETURN(spinel::v1::TrustDomainRequest td, TrustDomainRequest(f));
  for (const char* flag : {"--endpoint-url", "--profile"}) {
    if (!f.Given(flag)) return absl::InvalidArgumentError(StrCat(flag, ": is required"));
  }
  spinel::v1::CreateFederationRelationshipRequest request;
  request.mutable_relationship()->set_trust_domain(td.trust_domain());
  SPINEL_RETURN_IF_ERROR(ApplyFlags(f, request.mutable_relationship()));
  if (f.Given("--bundle-file")) {
    SPINEL_ASSIGN_OR_RETURN(*request.mutable_initial_bundle(),
                            ReadFlagFile("--bundle-file", f.bundle_file));
    if (request.initial_bundle().empty()) {
      return absl::InvalidArgumentError(StrCat("--bundle-file ", f.bundle_file, ": is empty"));
    }
  }
  SPINEL_RETURN_IF_ERROR(CheckLocally(f, request.relationship(), request.initial_bundle()));
  return request;
}

// `stored` with the given flags applied, and what the new profile does not use dropped.
absl::StatusOr<Relationship> UpdatedRelationship(const FederationFlags& f, Relationship stored) {
  stored.clear_refresh();
  stored.clear_bundle();
  SPINEL_RETURN_IF_ERROR(ApplyFlags(f, &stored));
  if (stored.profile() == kProfileHttpsWeb && !f.Given("--endpoint-spiffe-id")) {
    stored.clear_endpoint_spiffe_id();
  }
  if (stored.profile() == kProfileHttpsSpiffe && !f.Given("--web-ca-file")) {
    stored.clear_web_ca_pem();
  }
  SPINEL_RETURN_IF_ERROR(CheckLocally(f, stored, ""));
  return stored;
}

// --- Output ------------------------------------------------------------------------------

// "sequence 3, 1 X.509 authority, 2 JWT keys[, 2 WIT keys]", or why the stored bundle cannot be
// read.
std::string BundleSummary(const Relationship& r) {
  if (!r.has_bundle()) return "none stored";
  absl::StatusOr<common::TrustDomain> td = common::TrustDomain::Parse(r.trust_domain());
  absl::StatusOr<common::Bundle> bundle =
      td.ok() ? common::Bundle::Parse(*td, r.bundle().jwks()) : td.status();
  if (!bundle.ok()) return StrCat("unreadable: ", bundle.status().message());
  const size_t x509 = bundle->x509_authorities.size();
  const size_t jwt = bundle->jwt_authorities.size();
  const size_t wit = bundle->wit_authorities.size();
  return StrCat("sequence ", r.bundle().sequence(), ", ", x509,
                x509 == 1 ? " X.509 authority, " : " X.509 authorities, ", jwt,
                jwt == 1 ? " JWT key" : " JWT keys",
                wit == 0 ? "" : StrCat(", ", wit, wit == 1 ? " WIT key" : " WIT keys"));
}

nlohmann::json BundleJson(const Relationship& r) {
  if (!r.has_bundle()) return nullptr;
  nlohmann::json out = {{"sequence", r.bundle().sequence()}, {"summary", BundleSummary(r)}};
  absl::StatusOr<common::TrustDomain> td = common::TrustDomain::Parse(r.trust_domain());
  absl::StatusOr<common::Bundle> bundle =
      td.ok() ? common::Bundle::Parse(*td, r.bundle().jwks()) : td.status();
  if (bundle.ok()) {
    out["x509_authorities"] = bundle->x509_authorities.size();
    out["jwt_authorities"] = bundle->jwt_authorities.size();
    out["wit_authorities"] = bundle->wit_authorities.size();
  }
  return out;
}

nlohmann::json RelationshipJson(const Relationship& r) {
  const spinel::v1::FederationRefreshState& s = r.refresh();
  return {{"trust_domain", r.trust_domain()},
          {"bundle_endpoint_url", r.bundle_endpoint_url()},
          {"profile", r.profile()},
          {"endpoint_spiffe_id", r.endpoint_spiffe_id()},
          {"web_ca_pem", r.web_ca_pem()},
          {"created_at", FormatTime(r.created_at(), "")},
          {"updated_at", FormatTime(r.updated_at(), "")},
          {"refresh",
           {{"last_attempt_at", FormatTime(s.last_attempt_at(), "")},
            {"last_success_at", FormatTime(s.last_success_at(), "")},
            {"next_refresh_at", FormatTime(s.next_refresh_at(), "")},
            {"last_error", s.last_error()},
            {"consecutive_failures", s.consecutive_failures()}}},
          {"bundle", BundleJson(r)}};
}

std::string WebCaSummary(const Relationship& r) {
  if (r.profile() != kProfileHttpsWeb) return "-";
  if (r.web_ca_pem().empty()) return "system roots";
  absl::StatusOr<std::vector<common::Certificate>> certs =
      common::Certificate::ParsePemChain(r.web_ca_pem());
  if (!certs.ok()) return StrCat("unreadable: ", certs.status().message());
  return StrCat(certs->size(), certs->size() == 1 ? " certificate" : " certificates");
}

void PrintRelationship(const Relationship& r, const CommonFlags& c) {
  if (c.json()) {
    PrintJson(RelationshipJson(r));
    return;
  }
  const spinel::v1::FederationRefreshState& s = r.refresh();
  PrintFields(
      {{"Trust domain", r.trust_domain()},
       {"Endpoint URL", r.bundle_endpoint_url()},
       {"Profile", r.profile()},
       {"Endpoint SPIFFE ID", r.endpoint_spiffe_id().empty() ? "-" : r.endpoint_spiffe_id()},
       {"Web CAs", WebCaSummary(r)},
       {"Created at", FormatTime(r.created_at(), "-")},
       {"Updated at", FormatTime(r.updated_at(), "-")},
       {"Last attempt", FormatTime(s.last_attempt_at())},
       {"Last success", FormatTime(s.last_success_at())},
       {"Last error", s.last_error().empty() ? "-" : s.last_error()},
       {"Failures in a row", std::to_string(s.consecutive_failures())},
       {"Next refresh", FormatTime(s.next_refresh_at(), "as soon as possible")},
       {"Bundle", BundleSummary(r)}});
}

// --- Commands ----------------------------------------------------------------------------

int RunCreate(const FederationFlags& f) {
  auto request = CreateRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  Relationship created;
  grpc::Status status = Call(f.common, &Stub::CreateFederationRelationship, *request, &created);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (!f.common.json()) std::cout << "Created federation relationship:\n";
  PrintRelationship(created, f.common);
  return kExitOk;
}

int RunUpdate(const FederationFlags& f) {
  auto td = TrustDomainRequest(f);
  if (!td.ok()) return ReportUsageError(td.status());
  if (f.Given("--bundle-file")) {
    return ReportUsageError(
        "--bundle-file: only with create (later bundles are fetched from the endpoint)");
  }
  bool any = false;
  for (const char* flag : kFieldFlags) any = any || f.Given(flag);
  if (!any) {
    return ReportUsageError(
        "nothing to update: give --endpoint-url, --profile, --endpoint-spiffe-id or --web-ca-file");
  }
  Relationship stored;
  grpc::Status status = Call(f.common, &Stub::GetFederationRelationship, *td, &stored);
  if (!status.ok()) return ReportServerError(status, f.common);
  absl::StatusOr<Relationship> request = UpdatedRelationship(f, std::move(stored));
  if (!request.ok()) return ReportUsageError(request.status());
  Relationship updated;
  status = Call(f.common, &Stub::UpdateFederationRelationship, *request, &updated);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (!f.common.json()) std::cout << "Updated federation relationship:\n";
  PrintRelationship(updated, f.common);
  return kExitOk;
}

int RunDelete(const FederationFlags& f) {
  auto request = TrustDomainRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  spinel::v1::Empty response;
  grpc::Status status = Call(f.common, &Stub::DeleteFederationRelationship, *request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  std::cout << "Deleted the federation relationship with " << request->trust_domain()
            << " and its bundle (workloads stop trusting it)\n";
  return kExitOk;
}

int RunShow(const FederationFlags& f) {
  auto request = TrustDomainRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  Relationship relationship;
  grpc::Status status = Call(f.common, &Stub::GetFederationRelationship, *request, &relationship);
  if (!status.ok()) return ReportServerError(status, f.common);
  PrintRelationship(relationship, f.common);
  return kExitOk;
}

int RunList(const FederationFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  spinel::v1::ListFederationRelationshipsResponse response;
  grpc::Status status =
      Call(f.common, &Stub::ListFederationRelationships, spinel::v1::Empty(), &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const Relationship& r : response.relationships()) list.push_back(RelationshipJson(r));
    PrintJson({{"relationships", list}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const Relationship& r : response.relationships()) {
    rows.push_back({r.trust_domain(), r.profile(), r.bundle_endpoint_url(),
                    FormatTime(r.refresh().last_success_at()),
                    r.refresh().last_error().empty() ? "-" : r.refresh().last_error()});
  }
  PrintTable({"TRUST DOMAIN", "PROFILE", "ENDPOINT URL", "LAST SUCCESS", "LAST ERROR"}, rows);
  return kExitOk;
}

int RunRefresh(const FederationFlags& f) {
  auto request = TrustDomainRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  Relationship after;
  grpc::Status status = Call(f.common, &Stub::RefreshFederatedBundle, *request, &after);
  if (!status.ok()) return ReportServerError(status, f.common);
  const std::string& error = after.refresh().last_error();
  if (!f.common.json()) {
    std::cout << (error.empty() ? "Refreshed the bundle of " : "Refresh FAILED for ")
              << after.trust_domain() << " (bundle: " << BundleSummary(after) << ")\n";
  } else {
    PrintJson(RelationshipJson(after));
  }
  if (error.empty()) return kExitOk;
  std::cerr << "error: refresh of " << after.trust_domain() << " failed: " << error
            << " (the last good bundle stays)\n";
  return kExitServerError;
}

// --- Registration ------------------------------------------------------------------------

CLI::App* AddCommand(CLI::App* group, const char* name, const char* help,
                     int (*run)(const FederationFlags&), int* exit_code, bool listing = true) {
  auto flags = std::make_shared<FederationFlags>();
  CLI::App* command = group->add_subcommand(name, help);
  flags->command = command;
  if (listing)
    AddListingFlags(command, &flags->common);
  else
    AddSocketFlag(command, &flags->common);
  if (std::string_view(name) != "list") {
    command->add_option("--trust-domain", flags->trust_domain, "Foreign trust domain (required)");
  }
  if (std::string_view(name) == "create" || std::string_view(name) == "update") {
    command->add_option("--endpoint-url", flags->endpoint_url,
                        "Its SPIFFE bundle endpoint, https://host[:port][/path]");
    command->add_option("--profile", flags->profile, "https_web or https_spiffe");
    command->add_option("--endpoint-spiffe-id", flags->endpoint_spiffe_id,
                        "https_spiffe: the SPIFFE ID the endpoint's X509-SVID carries");
    command->add_option("--web-ca-file", flags->web_ca_file,
                        "https_web: PEM CAs for the endpoint's certificate (default: system "
                        "roots; '' on update: back to the system roots)");
    command->add_option("--bundle-file", flags->bundle_file,
                        "create: the trust domain's SPIFFE bundle (JSON) to start from");
  }
  command->callback([flags, run, exit_code] { *exit_code = run(*flags); });
  return command;
}

}  // namespace

void RegisterFederationCommands(CLI::App& app, int* exit_code) {
  CLI::App* group = app.add_subcommand("federation", "Federation with foreign trust domains")
                        ->require_subcommand(1);
  AddCommand(group, "create", "Federate with a foreign trust domain", RunCreate, exit_code);
  AddCommand(group, "update", "Change a relationship (only the flags given)", RunUpdate, exit_code);
  AddCommand(group, "delete", "End a relationship and delete its bundle", RunDelete, exit_code,
             /*listing=*/false);
  AddCommand(group, "list", "List the relationships and how their refreshes went", RunList,
             exit_code);
  AddCommand(group, "show", "Show one relationship, its refresh state and bundle", RunShow,
             exit_code);
  AddCommand(group, "refresh", "Fetch the bundle of a relationship now", RunRefresh, exit_code);
}

}  // namespace spinel::server::cli
