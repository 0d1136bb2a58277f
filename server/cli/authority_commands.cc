// `localauthority show|prepare|activate`: the X.509 CAs, JWT keys and WIT-SVID keys (kind "wit")
// of one trust domain and forced rotation (prepare the next authority, then activate it; the active
// one becomes old).
#include <iostream>
#include <memory>

#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"

namespace spinel::server::cli {
namespace {

using Method = grpc::Status (spinel::v1::AdminService::Stub::*)(
    grpc::ClientContext*, const spinel::v1::TrustDomainRequest&, spinel::v1::LocalAuthorities*);

struct AuthorityFlags {
  CommonFlags common;
  std::string trust_domain;
  Method method = nullptr;
  const char* done = "";  // printed before the table after a change
};

void PrintAuthorities(const spinel::v1::LocalAuthorities& authorities, const CommonFlags& c) {
  if (c.json()) {
    nlohmann::json list = nlohmann::json::array();
    for (const spinel::v1::LocalAuthority& a : authorities.authorities()) {
      list.push_back({{"kind", a.kind()},
                      {"state", a.state()},
                      {"id", a.id()},
                      {"not_before", FormatTime(a.not_before(), "")},
                      {"expires_at", FormatTime(a.expires_at(), "")}});
    }
    PrintJson({{"trust_domain", authorities.trust_domain()}, {"authorities", list}});
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (const spinel::v1::LocalAuthority& a : authorities.authorities()) {
    rows.push_back({a.kind(), a.state(), a.id(), FormatTime(a.not_before(), "-"),
                    FormatTime(a.expires_at(), "-")});
  }
  PrintTable({"KIND", "STATE", "ID", "NOT BEFORE", "EXPIRES AT"}, rows);
}

int Run(const AuthorityFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  absl::StatusOr<common::TrustDomain> td = ParseTrustDomainFlag("--trust-domain", f.trust_domain);
  if (!td.ok()) return ReportUsageError(td.status());
  spinel::v1::TrustDomainRequest request;
  request.set_trust_domain(td->name());
  spinel::v1::LocalAuthorities response;
  grpc::Status status = Call(f.common, f.method, request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (!f.common.json() && *f.done != '\0') std::cout << f.done << " " << td->name() << "\n\n";
  PrintAuthorities(response, f.common);
  return kExitOk;
}

}  // namespace

void RegisterAuthorityCommands(CLI::App& app, int* exit_code) {
  CLI::App* group =
      app.add_subcommand("localauthority", "Local signing authorities of a trust domain")
          ->require_subcommand(1);
  struct Spec {
    const char* name;
    const char* help;
    Method method;
    const char* done;
  };
  const Spec specs[] = {
      {"show", "Show the X.509 and JWT authorities and their phases",
       &spinel::v1::AdminService::Stub::GetLocalAuthorities, ""},
      {"prepare", "Prepare the next authorities (published in the bundle, not yet signing)",
       &spinel::v1::AdminService::Stub::PrepareLocalAuthority, "Prepared new authorities for"},
      {"activate", "Activate the prepared authorities (the active ones become old)",
       &spinel::v1::AdminService::Stub::ActivateLocalAuthority,
       "Activated the prepared authorities of"},
  };
  for (const Spec& spec : specs) {
    auto flags = std::make_shared<AuthorityFlags>();
    flags->method = spec.method;
    flags->done = spec.done;
    CLI::App* command = group->add_subcommand(spec.name, spec.help);
    AddListingFlags(command, &flags->common);
    command->add_option("--trust-domain", flags->trust_domain, "Trust domain (required)");
    command->callback([flags, exit_code] { *exit_code = Run(*flags); });
  }
}

}  // namespace spinel::server::cli
