#include "agent/cli/token_commands.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "agent/authz/delegation_exchanger.h"
#include "agent/cli/wit_commands.h"
#include "agent/cli/workload_client.h"
#include "authorization.grpc.pb.h"
#include "common/delegation_token.h"
#include "common/duration.h"
#include "common/file_util.h"
#include "common/private_jwk.h"
#include "common/rfc3339.h"
#include "common/secret_data.h"
#include "common/strings.h"
#include "common/wpt.h"

namespace spinel::agent::cli {
namespace {

using nlohmann::json;

constexpr std::chrono::seconds kExchangeDeadline(30);

struct ExchangeFlags {
  std::string socket;
  std::string subject_token_file;
  std::string subject_token_type = "jwt";
  std::string audience;
  std::string ttl;
  std::string spiffe_id;
  std::string output = "table";
};

int UsageError(const std::string& message) {
  std::fprintf(stderr, "error: %s (nothing was sent)\n", message.c_str());
  return 2;
}

std::string TokenTypeUri(const std::string& flag) {
  if (flag == "id_token") return std::string(common::kTokenTypeIdToken);
  if (flag == "access_token") return std::string(common::kTokenTypeAccessToken);
  return std::string(common::kTokenTypeJwt);
}

// The request from the flags (without the proof), or a usage error's exit code.
int BuildRequest(const ExchangeFlags& flags, spinel::v1::TokenExchangeRequest& request) {
  absl::StatusOr<std::string> token = common::ReadFile(flags.subject_token_file);
  if (!token.ok()) {
    return UsageError(common::StrCat("--subject-token-file: ", token.status().message()));
  }
  const std::string trimmed(absl::StripAsciiWhitespace(*token));
  if (trimmed.empty()) return UsageError("--subject-token-file: the file is empty");
  if (flags.audience.empty()) return UsageError("--audience: must not be empty");
  int64_t ttl_seconds = 0;
  if (!flags.ttl.empty()) {
    absl::StatusOr<std::chrono::milliseconds> ttl = common::ParseDuration(flags.ttl);
    if (!ttl.ok() || *ttl < std::chrono::seconds(1) || *ttl > std::chrono::hours(1)) {
      return UsageError("--ttl: a duration from 1s to 1h, like 5m");
    }
    ttl_seconds = std::chrono::duration_cast<std::chrono::seconds>(*ttl).count();
  }
  request.set_subject_token(trimmed);
  request.set_subject_token_type(TokenTypeUri(flags.subject_token_type));
  request.set_audience(flags.audience);
  request.set_requested_ttl_seconds(ttl_seconds);
  return 0;
}

// Sets wit_svid and wpt from the Workload API; 0 or the exit code.
int AddProof(const ExchangeFlags& flags, spinel::v1::TokenExchangeRequest& request) {
  ::WITSVIDResponse svids;
  grpc::Status status = FetchWitSvids(flags.socket, flags.spiffe_id, &svids);
  if (!status.ok()) return PrintRpcError(status);
  ::WITSVID& svid = *svids.mutable_svids(0);
  absl::StatusOr<common::PrivateKey> key = common::PrivateKeyFromJwk(svid.wit_svid_key());
  for (::WITSVID& each : *svids.mutable_svids()) common::WipeSecret(*each.mutable_wit_svid_key());
  if (!key.ok()) {
    std::fprintf(stderr, "error: the agent sent an unusable key: %s\n",
                 std::string(key.status().message()).c_str());
    return 1;
  }
  common::WptParams params;
  params.audience = std::string(kTokenExchangeTarget);
  params.tokens.access_token = request.subject_token();
  absl::StatusOr<std::string> wpt =
      common::CreateWpt(svid.wit_svid(), *key, params, std::chrono::system_clock::now());
  if (!wpt.ok()) {
    std::fprintf(stderr, "error: %s\n", std::string(wpt.status().message()).c_str());
    return 1;
  }
  request.set_wit_svid(svid.wit_svid());
  request.set_wpt(*wpt);
  return 0;
}

void PrintExchanged(const spinel::v1::TokenExchangeResponse& response, const std::string& output) {
  const std::string expires_at = common::FormatRfc3339(std::chrono::system_clock::now() +
                                                       std::chrono::seconds(response.expires_in()));
  json chain = json::array();
  for (const std::string& actor : response.actor_chain()) chain.push_back(actor);
  if (output == "json") {
    json out = {{"access_token", response.access_token()},
                {"issued_token_type", response.issued_token_type()},
                {"token_type", response.token_type()},
                {"expires_in", response.expires_in()},
                {"expires_at", expires_at},
                {"user_issuer", response.user_issuer()},
                {"user", response.user()},
                {"actor_chain", chain}};
    std::printf("%s\n", out.dump(2).c_str());
    return;
  }
  std::printf("Token:        %s\nUser:         %s\nUser issuer:  %s\n",
              response.access_token().c_str(), response.user().c_str(),
              response.user_issuer().c_str());
  std::printf("Actor chain:  %s\nExpires:      %s (in %lld s)\n",
              absl::StrJoin(response.actor_chain(), " <- ").c_str(), expires_at.c_str(),
              static_cast<long long>(response.expires_in()));
}

int Exchange(const ExchangeFlags& flags) {
  spinel::v1::TokenExchangeRequest request;
  if (int code = BuildRequest(flags, request); code != 0) return code;
  if (int code = AddProof(flags, request); code != 0) return code;
  auto stub = spinel::v1::TokenExchange::NewStub(grpc::CreateChannel(
      "unix://" + ResolveSocket(flags.socket), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kExchangeDeadline);
  spinel::v1::TokenExchangeResponse response;
  grpc::Status status = stub->Exchange(&context, request, &response);
  if (!status.ok()) return PrintRpcError(status);
  PrintExchanged(response, flags.output);
  return 0;
}

}  // namespace

void RegisterTokenCommands(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<ExchangeFlags>();
  CLI::App* token = app.add_subcommand("token", "Delegation tokens");
  token->require_subcommand(1);
  CLI::App* exchange = token->add_subcommand(
      "exchange", "Exchange a user or delegation token for a delegation token (RFC 8693)");
  exchange->add_option("--subject-token-file", flags->subject_token_file, "The subject token")
      ->required();
  exchange->add_option("--subject-token-type", flags->subject_token_type, "Its type (jwt)")
      ->check(CLI::IsMember({"jwt", "id_token", "access_token"}));
  exchange->add_option("--audience", flags->audience, "The new token's target")->required();
  exchange->add_option("--ttl", flags->ttl, "Requested lifetime (zone default)");
  exchange->add_option("--spiffe-id", flags->spiffe_id, "Exchange as this identity");
  exchange->add_option("--socket", flags->socket, "Workload API socket path");
  exchange->add_option("--output", flags->output, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
  exchange->callback([=] { *exit_code = Exchange(*flags); });
}

}  // namespace spinel::agent::cli
