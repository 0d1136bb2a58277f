// `agent list|show|evict|ban` and `token generate`: attested agents and join tokens.
#include <iostream>
#include <memory>

#include "common/status_macros.h"
#include "common/strings.h"
#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"

namespace spinel::server::cli {
namespace {

struct AgentFlags {
  CommonFlags common;
  std::string spiffe_id;
};

struct TokenFlags {
  CommonFlags common;
  CLI::App* command = nullptr;
  std::string ttl;
  std::string agent_path;
};

int RunList(const AgentFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  spinel::v1::ListAgentsResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::ListAgents, spinel::v1::Empty(), &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    nlohmann::json agents = nlohmann::json::array();
    for (const spinel::v1::Agent& agent : response.agents()) agents.push_back(AgentToJson(agent));
    PrintJson({{"agents", agents}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const spinel::v1::Agent& agent : response.agents()) {
    rows.push_back({agent.spiffe_id(), agent.attestation_type(),
                    FormatTime(agent.svid_expires_at()), agent.banned() ? "yes" : "no"});
  }
  PrintTable({"SPIFFE ID", "ATTESTATION", "SVID EXPIRES AT", "BANNED"}, rows);
  return kExitOk;
}

// The --spiffe-id of an agent command as a request.
absl::StatusOr<spinel::v1::AgentIdRequest> AgentRequest(const AgentFlags& f) {
  SPINEL_RETURN_IF_ERROR(CheckOutputFlag(f.common));
  SPINEL_RETURN_IF_ERROR(ParseIdFlag("--spiffe-id", f.spiffe_id).status());
  spinel::v1::AgentIdRequest request;
  request.set_spiffe_id(f.spiffe_id);
  return request;
}

int RunShow(const AgentFlags& f) {
  absl::StatusOr<spinel::v1::AgentIdRequest> request = AgentRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  spinel::v1::Agent agent;
  grpc::Status status = Call(f.common, &spinel::v1::AdminService::Stub::GetAgent, *request, &agent);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    PrintJson(AgentToJson(agent));
  } else {
    PrintFields(AgentFields(agent));
  }
  return kExitOk;
}

int RunEvict(const AgentFlags& f) {
  absl::StatusOr<spinel::v1::AgentIdRequest> request = AgentRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  spinel::v1::Empty response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::EvictAgent, *request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  std::cout << "Evicted agent " << f.spiffe_id << " (it must attest again)\n";
  return kExitOk;
}

int RunBan(const AgentFlags& f) {
  absl::StatusOr<spinel::v1::AgentIdRequest> request = AgentRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  spinel::v1::Empty response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::BanAgent, *request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  std::cout << "Banned agent " << f.spiffe_id << " (it cannot attest again)\n";
  return kExitOk;
}

absl::StatusOr<spinel::v1::CreateJoinTokenRequest> TokenRequest(const TokenFlags& f) {
  SPINEL_RETURN_IF_ERROR(CheckOutputFlag(f.common));
  spinel::v1::CreateJoinTokenRequest request;
  if (f.command->count("--ttl") > 0) {
    SPINEL_ASSIGN_OR_RETURN(int64_t ttl, ParseTtlFlag("--ttl", f.ttl));
    if (ttl <= 0) return absl::InvalidArgumentError("--ttl: must be at least 1s");
    request.set_ttl_seconds(ttl);
  }
  if (f.command->count("--agent-path") > 0) {
    if (std::optional<common::IdError> error = common::CheckPathSegment(f.agent_path)) {
      return absl::InvalidArgumentError(common::StrCat(
          "--agent-path: ", common::Quote(f.agent_path), ": ", common::IdErrorMessage(*error)));
    }
    request.set_agent_path(f.agent_path);
  }
  return request;
}

int RunTokenGenerate(const TokenFlags& f) {
  absl::StatusOr<spinel::v1::CreateJoinTokenRequest> request = TokenRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  spinel::v1::CreateJoinTokenResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::CreateJoinToken, *request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  // The one place the token is shown: the operator hands it to the agent.
  if (f.common.json()) {
    PrintJson({{"token", response.token()},
               {"agent_spiffe_id", response.agent_spiffe_id()},
               {"expires_at", FormatTime(response.expires_at())}});
  } else {
    PrintFields({{"Token", response.token()},
                 {"Agent SPIFFE ID", response.agent_spiffe_id()},
                 {"Expires at", FormatTime(response.expires_at())}});
  }
  return kExitOk;
}

template <typename Flags>
std::shared_ptr<Flags> AddCommand(CLI::App* parent, const char* name, const char* help,
                                  int* exit_code, int (*run)(const Flags&)) {
  auto flags = std::make_shared<Flags>();
  CLI::App* command = parent->add_subcommand(name, help);
  AddListingFlags(command, &flags->common);
  command->callback([flags, exit_code, run] { *exit_code = run(*flags); });
  return flags;
}

}  // namespace

void RegisterAgentCommands(CLI::App& app, int* exit_code) {
  CLI::App* agent = app.add_subcommand("agent", "Attested agents")->require_subcommand(1);
  AddCommand<AgentFlags>(agent, "list", "List attested agents", exit_code, RunList);
  struct Named {
    const char* name;
    const char* help;
    int (*run)(const AgentFlags&);
  };
  for (const Named& named : {Named{"show", "Show one agent", RunShow},
                             Named{"evict", "Evict an agent (it must attest again)", RunEvict},
                             Named{"ban", "Ban an agent (it cannot attest again)", RunBan}}) {
    auto flags = AddCommand<AgentFlags>(agent, named.name, named.help, exit_code, named.run);
    agent->get_subcommand(named.name)
        ->add_option("--spiffe-id", flags->spiffe_id, "The agent's SPIFFE ID (required)");
  }

  CLI::App* token = app.add_subcommand("token", "Join tokens")->require_subcommand(1);
  auto generate =
      AddCommand<TokenFlags>(token, "generate", "Create a single-use join token for a new agent",
                             exit_code, RunTokenGenerate);
  generate->command = token->get_subcommand("generate");
  generate->command->add_option("--ttl", generate->ttl,
                                "How long the token is valid, e.g. 10m (default: server config)");
  generate->command->add_option("--agent-path", generate->agent_path,
                                "Fixed last segment of the agent ID instead of a random UUID");
}

}  // namespace spinel::server::cli
