#include "agent/cli/authorize_command.h"

#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "agent/cli/workload_client.h"
#include "authorization.grpc.pb.h"
#include "common/certificate.h"
#include "common/file_util.h"
#include "common/rfc3339.h"

namespace spinel::agent::cli {
namespace {

using nlohmann::json;
using spinel::v1::AuthorizeResponse;

constexpr std::chrono::seconds kAuthorizeDeadline(30);

struct AuthorizeFlags {
  std::string svid;
  std::string x509_svid_file;
  std::string resource;
  std::string action;
  std::vector<std::string> context;
  std::string approval_id;
  std::string audience;
  std::string socket;
  std::string output = "table";
};

int Usage(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return kExitUsage;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  return kExitError;
}

// An approval's expiry as RFC 3339; "" when the verdict carries none (0).
std::string ApprovalExpiry(int64_t unix_seconds) {
  return unix_seconds <= 0 ? "" : common::FormatRfc3339(unix_seconds);
}

// Fills the request's context from k=v flags; "" or an error message.
std::string AddContext(const std::vector<std::string>& pairs,
                       spinel::v1::AuthorizeRequest& request) {
  for (const std::string& pair : pairs) {
    const size_t eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return "--context " + pair + ": expected key=value";
    }
    const std::string key = pair.substr(0, eq);
    if (request.context().count(key) != 0) return "--context " + key + " given twice";
    (*request.mutable_context())[key] = pair.substr(eq + 1);
  }
  return "";
}

// Sets the subject from --x509-svid; "" or an error message.
std::string AddX509Subject(const std::string& path, spinel::v1::AuthorizeRequest& request) {
  absl::StatusOr<std::string> pem = common::ReadFile(path);
  if (!pem.ok()) return std::string(pem.status().message());
  absl::StatusOr<std::vector<common::Certificate>> chain = common::Certificate::ParsePemChain(*pem);
  if (!chain.ok()) return path + ": " + std::string(chain.status().message());
  if (chain->empty()) return path + ": no certificate in the file";
  for (const common::Certificate& cert : *chain) {
    request.mutable_x509_svid()->add_certificates(cert.ToDer());
  }
  return "";
}

int ExitCodeFor(AuthorizeResponse::Verdict verdict) {
  switch (verdict) {
    case AuthorizeResponse::ALLOW:
      return kExitAllow;
    case AuthorizeResponse::APPROVAL_REQUIRED:
      return kExitApprovalRequired;
    case AuthorizeResponse::DENY:
      return kExitDeny;
    default:
      return kExitError;
  }
}

void PrintTable(const AuthorizeResponse& response) {
  auto row = [](const char* label, const std::string& value) {
    if (!value.empty()) std::printf("%-13s %s\n", label, value.c_str());
  };
  row("Verdict:", AuthorizeResponse::Verdict_Name(response.verdict()));
  row("Subject:", response.subject());
  row("Zone:", response.zone().empty() ? "(no rule matched)" : response.zone());
  row("Rule:", response.rule().empty() ? "(none)" : response.rule());
  row("Reason:", response.reason());
  row("Approval ID:", response.approval_id());
  row("Expires:", ApprovalExpiry(response.approval_expires_at()));
  if (response.verdict() == AuthorizeResponse::APPROVAL_REQUIRED &&
      !response.approval_id().empty()) {
    std::printf(
        "\nAn operator approves it with:\n  spinel-server approval approve %s --reason "
        "\"<why>\"\nthen retry this command with --approval-id %s (valid once).\n",
        response.approval_id().c_str(), response.approval_id().c_str());
  }
}

void PrintJson(const AuthorizeResponse& response) {
  json out = {{"verdict", AuthorizeResponse::Verdict_Name(response.verdict())},
              {"subject", response.subject()},
              {"zone", response.zone()},
              {"rule", response.rule()},
              {"reason", response.reason()},
              {"approval_id", response.approval_id()},
              {"approval_expires_at", ApprovalExpiry(response.approval_expires_at())}};
  std::printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
}

int RunAuthorize(const AuthorizeFlags& flags) {
  if (flags.svid.empty() == flags.x509_svid_file.empty()) {
    return Usage("give the subject with exactly one of --svid or --x509-svid");
  }
  spinel::v1::AuthorizeRequest request;
  request.set_resource(flags.resource);
  request.set_action(flags.action);
  request.set_audience(flags.audience);
  request.set_approval_id(flags.approval_id);
  if (std::string bad = AddContext(flags.context, request); !bad.empty()) return Usage(bad);
  if (!flags.svid.empty()) {
    request.set_jwt_svid(flags.svid);
  } else if (std::string bad = AddX509Subject(flags.x509_svid_file, request); !bad.empty()) {
    return Fail(bad);
  }
  auto stub = spinel::v1::Authorization::NewStub(grpc::CreateChannel(
      "unix://" + ResolveSocket(flags.socket), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kAuthorizeDeadline);
  AuthorizeResponse response;
  grpc::Status status = stub->Authorize(&context, request, &response);
  if (!status.ok()) {
    return Fail(absl::StatusCodeToString(static_cast<absl::StatusCode>(status.error_code())) +
                ": " + status.error_message());
  }
  if (flags.output == "json") {
    PrintJson(response);
  } else {
    PrintTable(response);
  }
  return ExitCodeFor(response.verdict());
}

}  // namespace

void RegisterAuthorizeCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<AuthorizeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "authorize", "Ask the agent whether a subject (proved by its SVID) may act on a resource");
  CLI::Option* svid = cmd->add_option("--svid", flags->svid, "The subject's JWT-SVID");
  CLI::Option* x509 = cmd->add_option("--x509-svid", flags->x509_svid_file,
                                      "PEM file with the subject's X509-SVID chain, leaf first");
  svid->excludes(x509);
  cmd->add_option("--resource", flags->resource, "<kind>:<name>, e.g. tool:jira.create_ticket")
      ->required();
  cmd->add_option("--action", flags->action, "e.g. invoke, read, call")->required();
  cmd->add_option("--context", flags->context, "Request context key=value (repeatable)");
  cmd->add_option("--approval-id", flags->approval_id, "An approval granted for this request");
  cmd->add_option("--audience", flags->audience,
                  "Audience the JWT-SVID carries (default spinel-authorize)");
  cmd->add_option("--socket", flags->socket, "Agent socket path");
  cmd->add_option("--output", flags->output, "Output format")
      ->check(CLI::IsMember({"table", "json"}));
  cmd->callback([=] { *exit_code = RunAuthorize(*flags); });
}

}  // namespace spinel::agent::cli
