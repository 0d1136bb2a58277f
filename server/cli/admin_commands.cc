// RegisterAdminCommands: every operator subcommand (command_groups.h), plus `healthcheck`.
#include "server/cli/admin_commands.h"

#include <iostream>
#include <memory>

#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"

namespace spinel::server::cli {
namespace {

int RunHealthcheck(const CommonFlags& flags) {
  if (absl::Status ok = CheckOutputFlag(flags); !ok.ok()) return ReportUsageError(ok);
  spinel::v1::HealthResponse health;
  grpc::Status status =
      Call(flags, &spinel::v1::AdminService::Stub::Health, spinel::v1::Empty(), &health);
  if (!status.ok()) return ReportServerError(status, flags);
  if (flags.json()) {
    PrintJson({{"ready", health.ready()},
               {"version", health.version()},
               {"entries", health.entries()},
               {"agents", health.agents()}});
  } else {
    std::cout << (health.ready() ? "Server is healthy." : "Server is NOT ready.") << "\n";
    PrintFields({{"Version", health.version()},
                 {"Entries", std::to_string(health.entries())},
                 {"Agents", std::to_string(health.agents())}});
  }
  return health.ready() ? kExitOk : kExitServerError;
}

}  // namespace

void RegisterHealthCommand(CLI::App& app, int* exit_code) {
  auto flags = std::make_shared<CommonFlags>();
  CLI::App* command = app.add_subcommand("healthcheck", "Check that the server is up and ready");
  AddListingFlags(command, flags.get());
  command->callback([flags, exit_code] { *exit_code = RunHealthcheck(*flags); });
}

void RegisterAdminCommands(CLI::App& app, int* exit_code) {
  RegisterHealthCommand(app, exit_code);
  RegisterEntryCommands(app, exit_code);
  RegisterAgentCommands(app, exit_code);
  RegisterBundleCommands(app, exit_code);
  RegisterMintCommands(app, exit_code);
  RegisterAuthorityCommands(app, exit_code);
  RegisterApprovalCommands(app, exit_code);
  RegisterAuditCommands(app, exit_code);
  RegisterZoneCommands(app, exit_code);
  RegisterFederationCommands(app, exit_code);
}

}  // namespace spinel::server::cli
