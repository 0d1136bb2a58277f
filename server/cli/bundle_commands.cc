// `bundle show|list`: the trust bundles of the trust domains this server signs for.
#include <iostream>
#include <memory>

#include "common/bundle.h"
#include "common/strings.h"
#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"

namespace spinel::server::cli {
namespace {

using common::StrCat;

struct BundleFlags {
  CommonFlags common;
  std::string trust_domain;
  std::string format = "pem";
};

// The JWK Set of `bundle` as JSON; a bundle the server sent that does not parse is reported
// like a server error.
absl::StatusOr<nlohmann::json> JwksJson(const spinel::v1::Bundle& bundle) {
  nlohmann::json jwks = nlohmann::json::parse(bundle.jwks(), nullptr, /*allow_exceptions=*/false);
  if (jwks.is_discarded()) {
    return absl::DataLossError(StrCat("the bundle of ", bundle.trust_domain(), " is not JSON"));
  }
  return jwks;
}

// How many JWKs of `jwks` have "use": `use`.
size_t CountKeys(const nlohmann::json& jwks, std::string_view use) {
  if (!jwks.is_object() || !jwks.contains("keys") || !jwks["keys"].is_array()) return 0;
  size_t count = 0;
  for (const nlohmann::json& key : jwks["keys"]) {
    if (key.is_object() && key.contains("use") && key["use"].is_string() &&
        key["use"].get<std::string>() == use) {
      ++count;
    }
  }
  return count;
}

int RunShow(const BundleFlags& f) {
  absl::StatusOr<common::TrustDomain> td = ParseTrustDomainFlag("--trust-domain", f.trust_domain);
  if (!td.ok()) return ReportUsageError(td.status());
  if (f.format != "pem" && f.format != "spiffe") {
    return ReportUsageError(StrCat("--format: ", common::Quote(f.format), " is not pem or spiffe"));
  }
  spinel::v1::TrustDomainRequest request;
  request.set_trust_domain(td->name());
  spinel::v1::Bundle bundle;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::GetBundle, request, &bundle);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.format == "spiffe") {
    absl::StatusOr<nlohmann::json> jwks = JwksJson(bundle);
    if (!jwks.ok()) return ReportServerError(grpc::Status(grpc::DATA_LOSS, "bad bundle"), f.common);
    PrintJson(*jwks);
    return kExitOk;
  }
  absl::StatusOr<common::Bundle> parsed = common::Bundle::Parse(*td, bundle.jwks());
  if (!parsed.ok()) {
    return ReportServerError(grpc::Status(grpc::DATA_LOSS, std::string(parsed.status().message())),
                             f.common);
  }
  std::cout << parsed->X509AuthoritiesPem();
  return kExitOk;
}

int RunList(const BundleFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  spinel::v1::ListBundlesResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::ListBundles, spinel::v1::Empty(), &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (const spinel::v1::Bundle& bundle : response.bundles()) {
    absl::StatusOr<nlohmann::json> jwks = JwksJson(bundle);
    if (!jwks.ok()) return ReportServerError(grpc::Status(grpc::DATA_LOSS, "bad bundle"), f.common);
    size_t x509 = CountKeys(*jwks, common::kUseX509Svid);
    size_t jwt = CountKeys(*jwks, common::kUseJwtSvid);
    size_t wit = CountKeys(*jwks, common::kUseWitSvid);
    list.push_back({{"trust_domain", bundle.trust_domain()},
                    {"sequence", bundle.sequence()},
                    {"bundle", *jwks}});
    rows.push_back({bundle.trust_domain(), std::to_string(bundle.sequence()), std::to_string(x509),
                    std::to_string(jwt), std::to_string(wit)});
  }
  if (f.common.json()) {
    PrintJson({{"bundles", list}});
  } else {
    PrintTable({"TRUST DOMAIN", "SEQUENCE", "X509 AUTHORITIES", "JWT KEYS", "WIT KEYS"}, rows);
  }
  return kExitOk;
}

}  // namespace

void RegisterBundleCommands(CLI::App& app, int* exit_code) {
  CLI::App* bundle = app.add_subcommand("bundle", "Trust bundles")->require_subcommand(1);

  auto show = std::make_shared<BundleFlags>();
  CLI::App* show_command = bundle->add_subcommand("show", "Show the bundle of a trust domain");
  AddSocketFlag(show_command, &show->common);
  show_command->add_option("--trust-domain", show->trust_domain, "Trust domain (required)");
  show_command->add_option("--format", show->format,
                           "pem (X.509 authorities, default) or spiffe (the JWK Set)");
  show_command->callback([show, exit_code] { *exit_code = RunShow(*show); });

  auto list = std::make_shared<BundleFlags>();
  CLI::App* list_command = bundle->add_subcommand("list", "List the bundles this server serves");
  AddListingFlags(list_command, &list->common);
  list_command->callback([list, exit_code] { *exit_code = RunList(*list); });
}

}  // namespace spinel::server::cli
