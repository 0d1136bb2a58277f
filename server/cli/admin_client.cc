#include "server/cli/admin_client.h"

#include <pwd.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "absl/status/status.h"
#include "common/duration.h"
#include "common/file_util.h"
#include "common/rfc3339.h"
#include "common/strings.h"

namespace spinel::server::cli {
namespace {

using common::Quote;
using common::StrCat;

absl::Status FlagError(std::string_view flag, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat(flag, ": ", problem));
}

bool AllDigits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

void AddSocketFlag(CLI::App* command, CommonFlags* flags) {
  command
      ->add_option("--socket", flags->socket,
                   StrCat("Admin API socket (default $", kAdminSocketEnv, ", else ",
                          kDefaultAdminSocket, ")"))
      ->envname(kAdminSocketEnv);
}

void AddListingFlags(CLI::App* command, CommonFlags* flags) {
  AddSocketFlag(command, flags);
  command->add_option("--output", flags->output, "Output format: table (default) or json");
}

absl::Status CheckOutputFlag(const CommonFlags& flags) {
  if (flags.output == "json" || flags.output == "table") return absl::OkStatus();
  return FlagError("--output", StrCat(Quote(flags.output), " is not json or table"));
}

std::string CodeName(grpc::StatusCode code) {
  return absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
}

int ReportServerError(const grpc::Status& status, const CommonFlags& flags) {
  std::string message = status.error_message();
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE && !common::FileExists(flags.socket)) {
    message = StrCat("no admin socket at ", flags.socket, " (is spinel-server running? use ",
                     "--socket or ", kAdminSocketEnv, ")");
  }
  std::cerr << "error: " << CodeName(status.error_code()) << ": " << message << "\n";
  return kExitServerError;
}

int ReportUsageError(const absl::Status& status) {
  return ReportUsageError(std::string_view(status.message().data(), status.message().size()));
}

int ReportUsageError(std::string_view message) {
  std::cerr << "error: " << message << " (nothing was sent)\n";
  return kExitUsage;
}

std::unique_ptr<spinel::v1::AdminService::Stub> Connect(const std::string& socket_path) {
  return spinel::v1::AdminService::NewStub(
      grpc::CreateChannel("unix:" + socket_path, grpc::InsecureChannelCredentials()));
}

std::string LocalUserName() {
  std::string name;
  if (const passwd* entry = ::getpwuid(::geteuid()); entry != nullptr && entry->pw_name) {
    name = entry->pw_name;
  } else if (const char* user = std::getenv("USER"); user != nullptr) {
    name = user;
  }
  // Only a plain name: anything else could not travel as a gRPC header value.
  if (name.empty() || name.size() > 64) return "";
  for (char c : name) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '-' || c == '@';
    if (!plain) return "";
  }
  return name;
}

absl::StatusOr<common::SpiffeId> ParseIdFlag(std::string_view flag, const std::string& value) {
  if (value.empty()) return FlagError(flag, "a SPIFFE ID is required");
  absl::StatusOr<common::SpiffeId> id = common::SpiffeId::Parse(value);
  if (!id.ok()) return FlagError(flag, StrCat(Quote(value), ": ", id.status().message()));
  return id;
}

absl::StatusOr<common::TrustDomain> ParseTrustDomainFlag(std::string_view flag,
                                                         const std::string& value) {
  if (value.empty()) return FlagError(flag, "a trust domain is required");
  if (value.find(":/") != std::string::npos) {
    return FlagError(flag, StrCat(Quote(value), ": give a trust domain name, not a SPIFFE ID"));
  }
  absl::StatusOr<common::TrustDomain> td = common::TrustDomain::Parse(value);
  if (!td.ok()) return FlagError(flag, StrCat(Quote(value), ": ", td.status().message()));
  return td;
}

absl::StatusOr<common::Selector> ParseSelectorFlag(std::string_view flag,
                                                   const std::string& value) {
  absl::StatusOr<common::Selector> selector = common::Selector::Parse(value);
  if (!selector.ok()) return FlagError(flag, StrCat(selector.status().message()));
  return selector;
}

absl::StatusOr<int64_t> ParseTtlFlag(std::string_view flag, const std::string& value) {
  absl::StatusOr<std::chrono::milliseconds> ttl = common::ParseDuration(value);
  if (!ttl.ok()) return FlagError(flag, StrCat(ttl.status().message()));
  if (ttl->count() % 1000 != 0) {
    return FlagError(flag, StrCat(Quote(value), " is not a whole number of seconds"));
  }
  return static_cast<int64_t>(ttl->count() / 1000);
}

absl::StatusOr<int64_t> ParseTimeFlag(std::string_view flag, const std::string& value) {
  if (value == "never") return 0;
  if (AllDigits(value)) {
    if (value.size() > 12) return FlagError(flag, StrCat(Quote(value), " is out of range"));
    return std::stoll(value);
  }
  struct tm parts {};
  char zone = 0;
  int consumed = 0;
  if (std::sscanf(value.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%n", &parts.tm_year, &parts.tm_mon,
                  &parts.tm_mday, &parts.tm_hour, &parts.tm_min, &parts.tm_sec, &zone,
                  &consumed) == 7 &&
      zone == 'Z' && static_cast<size_t>(consumed) == value.size()) {
    parts.tm_year -= 1900;
    parts.tm_mon -= 1;
    int64_t seconds = static_cast<int64_t>(timegm(&parts));
    // timegm normalises out-of-range fields; a real date formats back to the same text.
    if (seconds > 0 && FormatTime(seconds) == value) return seconds;
  }
  return FlagError(flag, StrCat(Quote(value), " is not Unix seconds or an RFC 3339 UTC time ",
                                "like 2026-01-31T12:00:00Z"));
}

std::string FormatTime(int64_t unix_seconds, std::string_view if_zero) {
  if (unix_seconds == 0) return std::string(if_zero);
  return common::FormatRfc3339(unix_seconds);
}

std::string FormatTtl(int64_t seconds) {
  if (seconds == 0) return "default";
  return common::FormatDuration(std::chrono::seconds(seconds));
}

void PrintJson(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

void PrintTable(const std::vector<std::string>& headers,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) widths[i] = headers[i].size();
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  };
  print_row(headers);
  for (const auto& row : rows) print_row(row);
}

void PrintFields(const Fields& fields) {
  size_t width = 0;
  for (const auto& [key, value] : fields) width = std::max(width, key.size() + 1);
  for (const auto& [key, value] : fields) {
    std::cout << key << ":" << std::string(width - key.size(), ' ') << value << "\n";
  }
}

std::string SelectorString(const spinel::v1::Selector& selector) {
  return StrCat(selector.type(), ":", selector.value());
}

Fields AgentFields(const spinel::v1::Agent& agent) {
  Fields fields = {{"SPIFFE ID", agent.spiffe_id()},
                   {"Attestation type", agent.attestation_type()},
                   {"SVID serial", agent.svid_serial()},
                   {"SVID expires at", FormatTime(agent.svid_expires_at())},
                   {"Banned", agent.banned() ? "yes" : "no"},
                   {"Created at", FormatTime(agent.created_at(), "-")},
                   {"Updated at", FormatTime(agent.updated_at(), "-")}};
  for (const spinel::v1::Selector& selector : agent.selectors()) {
    fields.emplace_back("Selector", SelectorString(selector));
  }
  return fields;
}

nlohmann::json AgentToJson(const spinel::v1::Agent& agent) {
  nlohmann::json selectors = nlohmann::json::array();
  for (const spinel::v1::Selector& selector : agent.selectors()) {
    selectors.push_back(SelectorString(selector));
  }
  return {{"spiffe_id", agent.spiffe_id()},
          {"attestation_type", agent.attestation_type()},
          {"svid_serial", agent.svid_serial()},
          {"svid_expires_at", FormatTime(agent.svid_expires_at(), "")},
          {"selectors", selectors},
          {"banned", agent.banned()},
          {"created_at", FormatTime(agent.created_at(), "")},
          {"updated_at", FormatTime(agent.updated_at(), "")}};
}

}  // namespace spinel::server::cli
