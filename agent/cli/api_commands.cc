#include "agent/cli/api_commands.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "agent/cli/wit_commands.h"
#include "agent/cli/workload_client.h"
#include "agent/workload_api/workload_service.h"
#include "common/certificate.h"
#include "common/file_util.h"
#include "common/keys.h"
#include "common/rfc3339.h"
#include "common/spiffe_id.h"
#include "common/strings.h"

namespace spinel::agent::cli {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds kFetchDeadline(10);

struct CommonFlags {
  std::string socket;
  std::string output = "table";
};

void AddCommonFlags(CLI::App* command, CommonFlags* flags) {
  command->add_option("--socket", flags->socket, "Workload API socket path");
  command->add_option("--output", flags->output, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
}

// The DER authorities as PEM ("" when they do not parse).
std::string DerToPem(const std::string& der) {
  auto certs = common::Certificate::ParseDerChain(der);
  return certs.ok() ? common::ConcatPem(*certs) : std::string();
}

json DescribeSvid(const ::X509SVID& svid) {
  json out = {{"spiffe_id", svid.spiffe_id()}, {"hint", svid.hint()}};
  auto chain = common::Certificate::ParseDerChain(svid.x509_svid());
  if (chain.ok()) {
    out["expires_at"] = common::FormatRfc3339(chain->front().NotAfter());
    out["serial"] = chain->front().SerialHex();
    out["chain_length"] = chain->size();
  }
  return out;
}

void PrintSvids(const ::X509SVIDResponse& response, const std::string& output) {
  json svids = json::array();
  for (const ::X509SVID& svid : response.svids()) svids.push_back(DescribeSvid(svid));
  if (output == "json") {
    json federated = json::array();
    for (const auto& [td, der] : response.federated_bundles()) federated.push_back(td);
    std::printf("%s\n", json{{"svids", svids}, {"federated_bundles", federated}}.dump(2).c_str());
    return;
  }
  for (const json& svid : svids) {
    std::printf("SPIFFE ID:  %s\n", svid["spiffe_id"].get<std::string>().c_str());
    if (!svid["hint"].get<std::string>().empty()) {
      std::printf("Hint:       %s\n", svid["hint"].get<std::string>().c_str());
    }
    if (svid.contains("expires_at")) {
      std::printf("Expires:    %s\nSerial:     %s\n", svid["expires_at"].get<std::string>().c_str(),
                  svid["serial"].get<std::string>().c_str());
    }
  }
  for (const auto& [td, der] : response.federated_bundles()) {
    std::printf("Federated:  %s\n", td.c_str());
  }
}

// Writes svid.pem, svid.key (0600) and bundle.pem (own trust domain, then every federated
// bundle) for the default (first) SVID, as spiffe-helper does.
int WriteSvidFiles(const ::X509SVIDResponse& response, const std::string& dir) {
  const ::X509SVID& svid = response.svids(0);
  auto key = common::PrivateKey::FromPkcs8Der(svid.x509_svid_key());
  auto key_pem = key.ok() ? key->ToPkcs8Pem() : key.status();
  if (!key_pem.ok()) {
    std::fprintf(stderr, "error: the agent sent an unusable private key\n");
    return 1;
  }
  std::string bundle = DerToPem(svid.bundle());
  for (const auto& [td, der] : response.federated_bundles()) bundle += DerToPem(der);
  absl::Status status = common::MakeDirs(dir, 0700);
  if (status.ok()) status = common::WriteFileAtomic(dir + "/svid.key", key_pem->view(), 0600);
  if (status.ok())
    status = common::WriteFileAtomic(dir + "/svid.pem", DerToPem(svid.x509_svid()), 0644);
  if (status.ok()) status = common::WriteFileAtomic(dir + "/bundle.pem", bundle, 0644);
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::printf("Wrote %s/svid.pem, %s/svid.key and %s/bundle.pem\n", dir.c_str(), dir.c_str(),
              dir.c_str());
  return 0;
}

int FetchX509(const CommonFlags& flags, const std::string& write_dir) {
  auto stub = ConnectWorkloadApi(ResolveSocket(flags.socket));
  auto context = WorkloadContext(kFetchDeadline);
  auto reader = stub->FetchX509SVID(context.get(), ::X509SVIDRequest());
  ::X509SVIDResponse response;
  if (!reader->Read(&response)) return PrintRpcError(reader->Finish());
  context->TryCancel();
  if (response.svids_size() == 0) {
    std::fprintf(stderr, "error: no SVIDs in response\n");
    return 1;
  }
  PrintSvids(response, flags.output);
  return write_dir.empty() ? 0 : WriteSvidFiles(response, write_dir);
}

// Bad usage (docs/cli.md): "error: <flag>: <problem>" on stderr, exit 2, nothing sent.
int UsageError(const std::string& message) {
  std::fprintf(stderr, "error: %s (nothing was sent)\n", message.c_str());
  return 2;
}

int FetchJwt(const CommonFlags& flags, const std::vector<std::string>& audience,
             const std::string& spiffe_id) {
  if (!spiffe_id.empty()) {
    absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(spiffe_id);
    if (!id.ok()) {
      return UsageError(common::StrCat("--spiffe-id: ", common::Quote(spiffe_id), ": ",
                                       std::string(id.status().message())));
    }
  }
  for (const std::string& aud : audience) {
    if (aud.empty() || aud.size() > kMaxAudienceBytes) {
      return UsageError(common::StrCat("--audience: must be 1 to ", kMaxAudienceBytes, " bytes"));
    }
  }
  auto stub = ConnectWorkloadApi(ResolveSocket(flags.socket));
  auto context = WorkloadContext(kFetchDeadline);
  ::JWTSVIDRequest request;
  for (const std::string& aud : audience) request.add_audience(aud);
  request.set_spiffe_id(spiffe_id);
  ::JWTSVIDResponse response;
  grpc::Status status = stub->FetchJWTSVID(context.get(), request, &response);
  if (!status.ok()) return PrintRpcError(status);
  json out = json::array();
  for (const ::JWTSVID& svid : response.svids()) {
    out.push_back({{"spiffe_id", svid.spiffe_id()}, {"token", svid.svid()}, {"hint", svid.hint()}});
    if (flags.output != "json") {
      std::printf("SPIFFE ID:  %s\nToken:      %s\n", svid.spiffe_id().c_str(),
                  svid.svid().c_str());
    }
  }
  if (flags.output == "json") std::printf("%s\n", json{{"svids", out}}.dump(2).c_str());
  return 0;
}

int FetchBundles(const CommonFlags& flags) {
  auto stub = ConnectWorkloadApi(ResolveSocket(flags.socket));
  auto context = WorkloadContext(kFetchDeadline);
  auto reader = stub->FetchX509Bundles(context.get(), ::X509BundlesRequest());
  ::X509BundlesResponse response;
  if (!reader->Read(&response)) return PrintRpcError(reader->Finish());
  context->TryCancel();
  json out = json::object();
  for (const auto& [td, der] : response.bundles()) {
    out[td] = DerToPem(der);
    if (flags.output != "json") std::printf("%s\n%s", td.c_str(), DerToPem(der).c_str());
  }
  if (flags.output == "json") std::printf("%s\n", json{{"bundles", out}}.dump(2).c_str());
  return 0;
}

int ValidateJwt(const CommonFlags& flags, const std::string& audience, const std::string& token) {
  auto stub = ConnectWorkloadApi(ResolveSocket(flags.socket));
  auto context = WorkloadContext(kFetchDeadline);
  ::ValidateJWTSVIDRequest request;
  request.set_audience(audience);
  request.set_svid(token);
  ::ValidateJWTSVIDResponse response;
  grpc::Status status = stub->ValidateJWTSVID(context.get(), request, &response);
  if (!status.ok()) return PrintRpcError(status);
  if (flags.output == "json") {
    std::printf("%s\n", json{{"spiffe_id", response.spiffe_id()}, {"valid", true}}.dump(2).c_str());
  } else {
    std::printf("Valid JWT-SVID for %s\n", response.spiffe_id().c_str());
  }
  return 0;
}

int Watch(const CommonFlags& flags) {
  auto stub = ConnectWorkloadApi(ResolveSocket(flags.socket));
  auto context = WorkloadContext(std::chrono::seconds(0));
  auto reader = stub->FetchX509SVID(context.get(), ::X509SVIDRequest());
  ::X509SVIDResponse response;
  while (reader->Read(&response)) {
    json update = {{"received_at", common::FormatRfc3339(std::chrono::system_clock::now())},
                   {"svids", json::array()}};
    for (const ::X509SVID& svid : response.svids()) update["svids"].push_back(DescribeSvid(svid));
    std::printf("%s\n", update.dump(flags.output == "json" ? -1 : 2).c_str());
    std::fflush(stdout);
  }
  return PrintRpcError(reader->Finish());
}

// Healthy when the agent answers a Workload API call through its whole request path (peer
// credentials, workload attestation, cache): ValidateJWTSVID with a token that cannot be valid
// must come back as InvalidArgument (the caller has an identity) or PermissionDenied (it has
// none). A held stream cannot serve here: the agent keeps X.509 streams of callers without an
// identity open and silent until they get one.
int Healthcheck(const CommonFlags& flags) {
  auto stub = ConnectWorkloadApi(ResolveSocket(flags.socket));
  auto context = WorkloadContext(std::chrono::seconds(3));
  ::ValidateJWTSVIDRequest request;
  request.set_audience("spinel-healthcheck");
  request.set_svid("healthcheck");
  ::ValidateJWTSVIDResponse response;
  grpc::Status status = stub->ValidateJWTSVID(context.get(), request, &response);
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT ||
      status.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    std::printf("Agent is healthy\n");
    return 0;
  }
  if (status.ok())
    status = grpc::Status(grpc::StatusCode::INTERNAL, "an invalid token was accepted");
  return PrintRpcError(status);
}

}  // namespace

void RegisterApiCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<CommonFlags>();
  CLI::App* api = app.add_subcommand("api", "Talk to the Workload API as a workload");
  api->require_subcommand(1);
  CLI::App* fetch = api->add_subcommand("fetch", "Fetch SVIDs or bundles");
  fetch->require_subcommand(1);

  auto write_dir = std::make_shared<std::string>();
  CLI::App* x509 = fetch->add_subcommand("x509", "Fetch X509-SVIDs");
  AddCommonFlags(x509, flags.get());
  x509->add_option("--write", *write_dir, "Write svid.pem, svid.key and bundle.pem to DIR");
  x509->callback([=] { *exit_code = FetchX509(*flags, *write_dir); });

  auto audience = std::make_shared<std::vector<std::string>>();
  auto spiffe_id = std::make_shared<std::string>();
  CLI::App* jwt = fetch->add_subcommand("jwt", "Fetch JWT-SVIDs");
  AddCommonFlags(jwt, flags.get());
  jwt->add_option("--audience", *audience, "Audience (repeatable)")->required();
  jwt->add_option("--spiffe-id", *spiffe_id, "Only this identity");
  jwt->callback([=] { *exit_code = FetchJwt(*flags, *audience, *spiffe_id); });

  RegisterFetchWitCommand(fetch, exit_code);

  CLI::App* bundle = fetch->add_subcommand("bundle", "Fetch X.509 bundles");
  AddCommonFlags(bundle, flags.get());
  bundle->callback([=] { *exit_code = FetchBundles(*flags); });

  auto token = std::make_shared<std::string>();
  auto validate_audience = std::make_shared<std::string>();
  CLI::App* validate = api->add_subcommand("validate", "Validate an SVID")->require_subcommand(1);
  CLI::App* validate_jwt = validate->add_subcommand("jwt", "Validate a JWT-SVID");
  AddCommonFlags(validate_jwt, flags.get());
  validate_jwt->add_option("--audience", *validate_audience, "Expected audience")->required();
  validate_jwt->add_option("--svid", *token, "The token")->required();
  validate_jwt->callback([=] { *exit_code = ValidateJwt(*flags, *validate_audience, *token); });

  CLI::App* watch = api->add_subcommand("watch", "Print every X509-SVID update as it arrives");
  AddCommonFlags(watch, flags.get());
  watch->callback([=] { *exit_code = Watch(*flags); });

  CLI::App* health = app.add_subcommand("healthcheck", "Check that the agent is serving");
  AddCommonFlags(health, flags.get());
  health->callback([=] { *exit_code = Healthcheck(*flags); });
}

}  // namespace spinel::agent::cli
