// The command groups of the spinel-server operator CLI, one .cc file each; admin_commands.cc
// registers them all. Each adds its subcommands to `app`; a subcommand's callback sets
// `*exit_code` (admin_client.h lists the codes).
#pragma once

#include <CLI/CLI.hpp>

namespace spinel::server::cli {

void RegisterHealthCommand(CLI::App& app, int* exit_code);       // admin_commands.cc
void RegisterEntryCommands(CLI::App& app, int* exit_code);       // entry_commands.cc
void RegisterAgentCommands(CLI::App& app, int* exit_code);       // agent_commands.cc (+ token)
void RegisterBundleCommands(CLI::App& app, int* exit_code);      // bundle_commands.cc
void RegisterMintCommands(CLI::App& app, int* exit_code);        // mint_commands.cc (x509, jwt)
void RegisterAuthorityCommands(CLI::App& app, int* exit_code);   // authority_commands.cc
void RegisterApprovalCommands(CLI::App& app, int* exit_code);    // approval_commands.cc
void RegisterAuditCommands(CLI::App& app, int* exit_code);       // audit_commands.cc
void RegisterZoneCommands(CLI::App& app, int* exit_code);        // zone_commands.cc
void RegisterFederationCommands(CLI::App& app, int* exit_code);  // federation_commands.cc

}  // namespace spinel::server::cli
