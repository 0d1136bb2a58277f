// Shared plumbing of the spinel-server operator commands (admin_commands.h): the flags every
// command has (--socket, --output), the admin API connection, local validation of flag values,
// error reporting with the documented exit codes, and human/JSON output helpers.
//
// Exit codes: kExitOk (0) success; kExitServerError (1) the server refused or failed, or could
// not be reached (printed as "error: <gRPC code name>: <message>"); kExitUsage (2) bad usage or
// a bad flag value, printed as "error: <flag>: <problem>" before anything is sent.
//
// Output goes to stdout, errors to stderr. Nothing here prints private keys or join tokens;
// the commands that must show one (token generate, x509 mint --write, jwt mint) do it
// themselves, once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "admin.grpc.pb.h"
#include "common/selector.h"
#include "common/spiffe_id.h"

namespace spinel::server::cli {

inline constexpr char kDefaultAdminSocket[] = "/var/lib/spinel/server/admin.sock";
inline constexpr char kAdminSocketEnv[] = "SPINEL_ADMIN_SOCKET";
inline constexpr auto kCallTimeout = std::chrono::seconds(30);

inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;
inline constexpr int kExitUsage = 2;

// Flags every command takes. Commands keep them (and their own flags) in heap objects owned
// by their callbacks, so the addresses CLI11 writes to stay valid.
struct CommonFlags {
  std::string socket = kDefaultAdminSocket;
  std::string output = "table";  // "table" or "json"; only listings register --output
  bool json() const { return output == "json"; }
};

// --socket PATH (default $SPINEL_ADMIN_SOCKET, else kDefaultAdminSocket).
void AddSocketFlag(CLI::App* command, CommonFlags* flags);
// --socket and --output json|table.
void AddListingFlags(CLI::App* command, CommonFlags* flags);
// InvalidArgument "--output: ..." unless the value is json or table.
absl::Status CheckOutputFlag(const CommonFlags& flags);

// --- Reporting --------------------------------------------------------------------------
// "INVALID_ARGUMENT", "NOT_FOUND", ...
std::string CodeName(grpc::StatusCode code);
// Prints "error: <CODE>: <message>" (plus a hint when the socket is unreachable); returns 1.
int ReportServerError(const grpc::Status& status, const CommonFlags& flags);
// Prints "error: <message>" for a bad flag (the status message names it); returns 2.
int ReportUsageError(const absl::Status& status);
int ReportUsageError(std::string_view message);

// --- Calling the admin API --------------------------------------------------------------
std::unique_ptr<spinel::v1::AdminService::Stub> Connect(const std::string& socket_path);

// gRPC metadata naming the operator (the local user) on every call; the server records it as
// "operator:<name>" (decided_by of approvals, audit actors). Informational: the admin socket's
// file mode is the access control.
inline constexpr char kOperatorMetadata[] = "spinel-operator";
// The password database's name for the effective uid, else $USER; "" when neither is a plain
// name ([A-Za-z0-9._@-], at most 64 characters).
std::string LocalUserName();

// One unary call with kCallTimeout, carrying the operator metadata.
template <typename Request, typename Response>
grpc::Status Call(const CommonFlags& flags,
                  grpc::Status (spinel::v1::AdminService::Stub::*method)(grpc::ClientContext*,
                                                                         const Request&, Response*),
                  const Request& request, Response* response) {
  std::unique_ptr<spinel::v1::AdminService::Stub> stub = Connect(flags.socket);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
  if (std::string user = LocalUserName(); !user.empty()) {
    context.AddMetadata(kOperatorMetadata, user);
  }
  return (stub.get()->*method)(&context, request, response);
}

// --- Flag validation: every error is InvalidArgument "<flag>: <problem>" ---------------
absl::StatusOr<common::SpiffeId> ParseIdFlag(std::string_view flag, const std::string& value);
absl::StatusOr<common::TrustDomain> ParseTrustDomainFlag(std::string_view flag,
                                                         const std::string& value);
absl::StatusOr<common::Selector> ParseSelectorFlag(std::string_view flag, const std::string& value);
// A duration ("90s", "5m", "1h30m") in whole seconds; "0s" is allowed (server default).
absl::StatusOr<int64_t> ParseTtlFlag(std::string_view flag, const std::string& value);
// Unix seconds, or RFC 3339 UTC "2026-01-31T12:00:00Z"; "never" and "0" mean 0 (no expiry).
absl::StatusOr<int64_t> ParseTimeFlag(std::string_view flag, const std::string& value);

// --- Output -----------------------------------------------------------------------------
// RFC 3339 UTC ("2026-01-31T12:00:00Z"); `if_zero` for 0.
std::string FormatTime(int64_t unix_seconds, std::string_view if_zero = "never");
// "1h30m" for seconds; "default" for 0.
std::string FormatTtl(int64_t seconds);
void PrintJson(const nlohmann::json& value);
// Aligned columns, two spaces apart, headers first.
void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows);
// "Key:   value" lines, values aligned.
using Fields = std::vector<std::pair<std::string, std::string>>;
void PrintFields(const Fields& fields);

// Human and JSON forms of the API's records.
Fields AgentFields(const spinel::v1::Agent& agent);
nlohmann::json AgentToJson(const spinel::v1::Agent& agent);
std::string SelectorString(const spinel::v1::Selector& selector);

}  // namespace spinel::server::cli
