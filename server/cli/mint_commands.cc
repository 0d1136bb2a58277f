// `x509 mint` and `jwt mint`: SVIDs minted directly by an operator (tests, break-glass use).
// The X.509 key is generated here and only a CSR is sent; the key is written only to
// <DIR>/svid.key (mode 0600) with --write, never printed.
#include <iostream>
#include <memory>

#include "common/certificate.h"
#include "common/csr.h"
#include "common/file_util.h"
#include "common/grpc_status.h"
#include "common/keys.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/x509_builder.h"
#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"

namespace spinel::server::cli {
namespace {

using common::StrCat;

// The file names spiffe-helper setups and `spinel-agent api fetch x509 --write` use.
constexpr char kSvidFile[] = "svid.pem";
constexpr char kKeyFile[] = "svid.key";
constexpr char kBundleFile[] = "bundle.pem";

struct MintFlags {
  CommonFlags common;
  CLI::App* command = nullptr;
  std::string spiffe_id, ttl, write;
  std::vector<std::string> dns, audience;
};

// The validated --spiffe-id and --ttl (0 when not given).
absl::Status CheckIdAndTtl(const MintFlags& f, int64_t* ttl_seconds) {
  SPINEL_RETURN_IF_ERROR(CheckOutputFlag(f.common));
  SPINEL_RETURN_IF_ERROR(ParseIdFlag("--spiffe-id", f.spiffe_id).status());
  *ttl_seconds = 0;
  if (f.command->count("--ttl") > 0) {
    SPINEL_ASSIGN_OR_RETURN(*ttl_seconds, ParseTtlFlag("--ttl", f.ttl));
    if (*ttl_seconds <= 0) return absl::InvalidArgumentError("--ttl: must be at least 1s");
  }
  return absl::OkStatus();
}

absl::StatusOr<spinel::v1::MintX509SvidRequest> X509Request(const MintFlags& f,
                                                            const common::PrivateKey& key) {
  int64_t ttl = 0;
  SPINEL_RETURN_IF_ERROR(CheckIdAndTtl(f, &ttl));
  for (const std::string& name : f.dns) {
    absl::Status valid = common::CheckDnsName(name);
    if (!valid.ok()) return absl::InvalidArgumentError(StrCat("--dns: ", valid.message()));
  }
  if (f.command->count("--write") > 0 && f.write.empty()) {
    return absl::InvalidArgumentError("--write: a directory is required");
  }
  spinel::v1::MintX509SvidRequest request;
  request.set_spiffe_id(f.spiffe_id);
  request.set_ttl_seconds(ttl);
  for (const std::string& name : f.dns) request.add_dns_names(name);
  SPINEL_ASSIGN_OR_RETURN(common::SpiffeId id, common::SpiffeId::Parse(f.spiffe_id));
  SPINEL_ASSIGN_OR_RETURN(*request.mutable_csr(), common::CreateCsrDer(key, id, f.dns));
  return request;
}

struct PemFiles {
  std::string chain;
  std::string bundle;
};

absl::StatusOr<PemFiles> ToPem(const spinel::v1::MintX509SvidResponse& response) {
  PemFiles pem;
  for (const std::string& der : response.certificate_chain()) {
    SPINEL_ASSIGN_OR_RETURN(common::Certificate cert, common::Certificate::FromDer(der));
    pem.chain += cert.ToPem();
  }
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> bundle,
                          common::Certificate::ParseDerChain(response.bundle()));
  pem.bundle = common::ConcatPem(bundle);
  return pem;
}

absl::Status WriteFiles(const std::string& dir, const PemFiles& pem,
                        const common::PrivateKey& key) {
  SPINEL_RETURN_IF_ERROR(common::MakeDirs(dir, 0755));
  SPINEL_ASSIGN_OR_RETURN(common::SecretData key_pem, key.ToPkcs8Pem());
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(dir + "/" + kKeyFile, key_pem.view(), 0600));
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(dir + "/" + kSvidFile, pem.chain, 0644));
  return common::WriteFileAtomic(dir + "/" + kBundleFile, pem.bundle, 0644);
}

int RunX509Mint(const MintFlags& f) {
  absl::StatusOr<common::PrivateKey> key = common::PrivateKey::Generate();
  if (!key.ok()) return ReportServerError(common::ToGrpcStatus(key.status()), f.common);
  absl::StatusOr<spinel::v1::MintX509SvidRequest> request = X509Request(f, *key);
  if (!request.ok()) return ReportUsageError(request.status());
  spinel::v1::MintX509SvidResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::MintX509Svid, *request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  absl::StatusOr<PemFiles> pem = ToPem(response);
  if (!pem.ok()) return ReportServerError(common::ToGrpcStatus(pem.status()), f.common);
  if (!f.write.empty()) {
    absl::Status written = WriteFiles(f.write, *pem, *key);
    if (!written.ok()) return ReportServerError(common::ToGrpcStatus(written), f.common);
    PrintFields({{"SPIFFE ID", f.spiffe_id},
                 {"Expires at", FormatTime(response.expires_at())},
                 {"Certificate chain", f.write + "/" + kSvidFile},
                 {"Private key", f.write + "/" + kKeyFile},
                 {"Trust bundle", f.write + "/" + kBundleFile}});
    return kExitOk;
  }
  PrintFields({{"SPIFFE ID", f.spiffe_id},
               {"Expires at", FormatTime(response.expires_at())},
               {"Private key", "[private key written only with --write DIR]"}});
  std::cout << "\n# X509-SVID (certificate chain)\n"
            << pem->chain << "\n# Trust bundle\n"
            << pem->bundle;
  return kExitOk;
}

int RunJwtMint(const MintFlags& f) {
  int64_t ttl = 0;
  if (absl::Status ok = CheckIdAndTtl(f, &ttl); !ok.ok()) return ReportUsageError(ok);
  if (f.audience.empty()) return ReportUsageError("--audience: at least one is required");
  for (const std::string& audience : f.audience) {
    if (audience.empty()) return ReportUsageError("--audience: must not be empty");
  }
  spinel::v1::AdminMintJwtSvidRequest request;
  request.set_spiffe_id(f.spiffe_id);
  request.set_ttl_seconds(ttl);
  for (const std::string& audience : f.audience) request.add_audience(audience);
  spinel::v1::AdminMintJwtSvidResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::MintJwtSvid, request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  // Printing the token is this command's purpose.
  if (f.common.json()) {
    PrintJson({{"token", response.token()}, {"expires_at", FormatTime(response.expires_at())}});
  } else {
    std::cout << response.token() << "\n";
  }
  return kExitOk;
}

CLI::App* AddMintCommand(CLI::App& app, const char* group, const char* help, int* exit_code,
                         int (*run)(const MintFlags&), std::shared_ptr<MintFlags> flags) {
  CLI::App* parent = app.add_subcommand(group, help)->require_subcommand(1);
  flags->command = parent->add_subcommand("mint", help);
  AddListingFlags(flags->command, &flags->common);
  flags->command->add_option("--spiffe-id", flags->spiffe_id, "SPIFFE ID to mint (required)");
  flags->command->add_option("--ttl", flags->ttl, "Lifetime, e.g. 10m (default: the zone's)");
  flags->command->callback([flags, exit_code, run] { *exit_code = run(*flags); });
  return flags->command;
}

}  // namespace

void RegisterMintCommands(CLI::App& app, int* exit_code) {
  auto x509 = std::make_shared<MintFlags>();
  CLI::App* x509_mint =
      AddMintCommand(app, "x509", "Mint an X509-SVID", exit_code, RunX509Mint, x509);
  x509_mint->add_option("--dns", x509->dns, "DNS name for the SVID (repeatable)");
  x509_mint->add_option("--write", x509->write,
                        "Write svid.pem, svid.key (0600) and bundle.pem into this directory");

  auto jwt = std::make_shared<MintFlags>();
  CLI::App* jwt_mint = AddMintCommand(app, "jwt", "Mint a JWT-SVID", exit_code, RunJwtMint, jwt);
  jwt_mint->add_option("--audience", jwt->audience, "Audience (repeatable; at least one)");
}

}  // namespace spinel::server::cli
