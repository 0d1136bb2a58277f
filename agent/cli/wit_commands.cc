#include "agent/cli/wit_commands.h"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "agent/cli/workload_client.h"
#include "common/file_util.h"
#include "common/jwt_decode.h"
#include "common/private_jwk.h"
#include "common/rfc3339.h"
#include "common/secret_data.h"
#include "common/spiffe_id.h"
#include "common/strings.h"
#include "common/workload_proof_request.h"

namespace spinel::agent::cli {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds kFetchDeadline(10);

struct WitFlags {
  std::string socket;
  std::string output = "table";
  std::string spiffe_id;
  std::string write_dir;
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "error: %s (nothing was sent)\n", message.c_str());
  return 2;
}

// 0 when `spiffe_id` is empty or a valid SPIFFE ID; otherwise the usage error's exit code.
int CheckSpiffeIdFlag(const std::string& spiffe_id) {
  if (spiffe_id.empty()) return 0;
  absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(spiffe_id);
  if (id.ok()) return 0;
  return UsageError(common::StrCat("--spiffe-id: ", common::Quote(spiffe_id), ": ",
                                   std::string(id.status().message())));
}

grpc::Status FetchWitBundles(const std::string& socket, ::WITBundlesResponse* response) {
  auto stub = ConnectWorkloadApi(ResolveSocket(socket));
  auto context = WorkloadContext(kFetchDeadline);
  auto reader = stub->FetchWITBundles(context.get(), ::WITBundlesRequest());
  if (!reader->Read(response)) return reader->Finish();
  context->TryCancel();
  return grpc::Status::OK;
}

// What the CLI shows of one WIT-SVID (decoded, not verified: the agent just issued it).
json DescribeWit(const ::WITSVID& svid, bool with_token) {
  json out = {{"spiffe_id", svid.spiffe_id()}, {"hint", svid.hint()}};
  absl::StatusOr<common::DecodedJwt> jwt =
      common::DecodeCompactJwt(svid.wit_svid(), common::kMaxWitSvidBytes);
  if (jwt.ok()) {
    out["kid"] = jwt->header.value("kid", "");
    auto exp = common::NumericDateClaim(jwt->claims, "exp");
    if (exp.ok() && exp->has_value()) out["expires_at"] = common::FormatRfc3339(**exp);
    const json* cnf = jwt->claims.contains("cnf") ? &jwt->claims["cnf"] : nullptr;
    if (cnf != nullptr && cnf->contains("jwk")) out["cnf_alg"] = (*cnf)["jwk"].value("alg", "");
  }
  if (with_token) out["wit_svid"] = svid.wit_svid();
  return out;
}

void PrintWits(const ::WITSVIDResponse& svids, const ::WITBundlesResponse& bundles,
               const std::string& output) {
  json list = json::array();
  for (const ::WITSVID& svid : svids.svids()) list.push_back(DescribeWit(svid, output == "json"));
  json domains = json::array();
  for (const auto& [td, jwks] : bundles.bundles()) domains.push_back(td);
  if (output == "json") {
    std::printf("%s\n", json{{"svids", list}, {"bundles", domains}}.dump(2).c_str());
    return;
  }
  for (const json& svid : list) {
    std::printf("SPIFFE ID:  %s\n", svid["spiffe_id"].get<std::string>().c_str());
    if (!svid["hint"].get<std::string>().empty()) {
      std::printf("Hint:       %s\n", svid["hint"].get<std::string>().c_str());
    }
    std::printf("Expires:    %s\nKey ID:     %s\nKey alg:    %s\n",
                svid.value("expires_at", "?").c_str(), svid.value("kid", "?").c_str(),
                svid.value("cnf_alg", "?").c_str());
  }
  for (const auto& [td, jwks] : bundles.bundles()) std::printf("WIT bundle: %s\n", td.c_str());
}

int WriteWitFiles(const ::WITSVIDResponse& svids, const ::WITBundlesResponse& bundles,
                  const std::string& dir) {
  const ::WITSVID& svid = svids.svids(0);
  json map = json::object();
  for (const auto& [td, jwks] : bundles.bundles()) {
    map[td] = json::parse(jwks, nullptr, false);
  }
  absl::Status status = common::MakeDirs(dir, 0700);
  if (status.ok()) {
    status = common::WriteFileAtomic(dir + "/wit_svid_key.jwk", svid.wit_svid_key(), 0600);
  }
  if (status.ok()) status = common::WriteFileAtomic(dir + "/wit_svid.jwt", svid.wit_svid(), 0644);
  if (status.ok()) {
    status = common::WriteFileAtomic(dir + "/wit_bundles.json", map.dump(2) + "\n", 0644);
  }
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::printf("Wrote %s/wit_svid.jwt, %s/wit_svid_key.jwk and %s/wit_bundles.json\n", dir.c_str(),
              dir.c_str(), dir.c_str());
  return 0;
}

int FetchWit(const WitFlags& flags) {
  if (int usage = CheckSpiffeIdFlag(flags.spiffe_id); usage != 0) return usage;
  ::WITSVIDResponse svids;
  grpc::Status status = FetchWitSvids(flags.socket, flags.spiffe_id, &svids);
  ::WITBundlesResponse bundles;
  if (status.ok()) status = FetchWitBundles(flags.socket, &bundles);
  if (!status.ok()) {
    for (::WITSVID& svid : *svids.mutable_svids()) common::WipeSecret(*svid.mutable_wit_svid_key());
    return PrintRpcError(status);
  }
  PrintWits(svids, bundles, flags.output);
  int code = flags.write_dir.empty() ? 0 : WriteWitFiles(svids, bundles, flags.write_dir);
  for (::WITSVID& svid : *svids.mutable_svids()) common::WipeSecret(*svid.mutable_wit_svid_key());
  return code;
}

struct WptFlags {
  std::string socket;
  std::string spiffe_id;
  std::string audience;
  std::string access_token;
  int lifetime_seconds = 30;
};

int CheckWptFlags(const WptFlags& flags) {
  if (int usage = CheckSpiffeIdFlag(flags.spiffe_id); usage != 0) return usage;
  const std::string& aud = flags.audience;
  const bool http = aud.starts_with("https://") || aud.starts_with("http://");
  if (!http || aud.find_first_of("?# ") != std::string::npos) {
    return UsageError(
        "--aud: must be the request's target URI, scheme://host/path, without "
        "query or fragment");
  }
  if (flags.lifetime_seconds < 1 || flags.lifetime_seconds > 300) {
    return UsageError("--lifetime: must be 1 to 300 seconds");
  }
  return 0;
}

int CreateWpt(const WptFlags& flags) {
  if (int usage = CheckWptFlags(flags); usage != 0) return usage;
  ::WITSVIDResponse svids;
  grpc::Status status = FetchWitSvids(flags.socket, flags.spiffe_id, &svids);
  if (!status.ok()) return PrintRpcError(status);
  ::WITSVID& svid = *svids.mutable_svids(0);
  absl::StatusOr<common::PrivateKey> key = common::PrivateKeyFromJwk(svid.wit_svid_key());
  common::WipeSecret(*svid.mutable_wit_svid_key());
  if (!key.ok()) {
    std::fprintf(stderr, "error: the agent sent an unusable key: %s\n",
                 std::string(key.status().message()).c_str());
    return 1;
  }
  common::WptParams params;
  params.audience = flags.audience;
  if (!flags.access_token.empty()) params.tokens.access_token = flags.access_token;
  params.lifetime = std::chrono::seconds(flags.lifetime_seconds);
  absl::StatusOr<std::vector<common::HttpHeader>> headers =
      common::WorkloadProofHeaders(svid.wit_svid(), *key, params, std::chrono::system_clock::now());
  if (!headers.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(headers.status().message()).c_str());
    return 1;
  }
  for (const common::HttpHeader& header : *headers) {
    std::printf("%s: %s\n", header.name.c_str(), header.value.c_str());
  }
  return 0;
}

}  // namespace

grpc::Status FetchWitSvids(const std::string& socket, const std::string& spiffe_id,
                           ::WITSVIDResponse* response) {
  auto stub = ConnectWorkloadApi(ResolveSocket(socket));
  auto context = WorkloadContext(kFetchDeadline);
  ::WITSVIDRequest request;
  request.set_spiffe_id(spiffe_id);
  auto reader = stub->FetchWITSVID(context.get(), request);
  if (!reader->Read(response)) return reader->Finish();
  context->TryCancel();
  if (response->svids_size() == 0) {
    return grpc::Status(grpc::StatusCode::INTERNAL, "the agent sent no WIT-SVID");
  }
  return grpc::Status::OK;
}

void RegisterFetchWitCommand(CLI::App* fetch, int* exit_code) {
  auto flags = std::make_shared<WitFlags>();
  CLI::App* wit = fetch->add_subcommand("wit", "Fetch WIT-SVIDs and WIT bundles");
  wit->add_option("--socket", flags->socket, "Workload API socket path");
  wit->add_option("--output", flags->output, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
  wit->add_option("--spiffe-id", flags->spiffe_id, "Only this identity");
  wit->add_option("--write", flags->write_dir,
                  "Write wit_svid.jwt, wit_svid_key.jwk and wit_bundles.json to DIR");
  wit->callback([=] { *exit_code = FetchWit(*flags); });
}

void RegisterWptCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<WptFlags>();
  CLI::App* wpt = app.add_subcommand("wpt", "Workload Proof Tokens for HTTP clients");
  wpt->require_subcommand(1);
  CLI::App* create = wpt->add_subcommand(
      "create", "Print the Workload-Identity-Token and Workload-Proof-Token headers");
  create->add_option("--socket", flags->socket, "Workload API socket path");
  create->add_option("--aud", flags->audience, "The request's target URI")->required();
  create->add_option("--ath", flags->access_token, "Access token the request carries");
  create->add_option("--spiffe-id", flags->spiffe_id, "Use this identity");
  create->add_option("--lifetime", flags->lifetime_seconds, "WPT lifetime in seconds (30)");
  create->callback([=] { *exit_code = CreateWpt(*flags); });
}

}  // namespace spinel::agent::cli
