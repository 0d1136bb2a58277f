// `audit list|verify`: the server's hash-chained audit log. `audit verify` exits 0 when the
// whole chain recomputes ("audit log intact: N events, head <hash>") and 1 naming the first
// event that was altered or removed. `audit list --user USER` lists the events on behalf of one
// user (the user's subject, exactly); events on behalf of a user show the user and the actor
// chain (current actor first).
#include <chrono>
#include <iostream>
#include <memory>

#include "common/duration.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"

namespace spinel::server::cli {
namespace {

using common::Quote;
using common::StrCat;

constexpr size_t kReasonColumnWidth = 60;

struct AuditFlags {
  CommonFlags common;
  CLI::App* command = nullptr;
  std::string zone;
  std::string since;
  std::string kind;
  std::string user;
  int limit = 0;
};

constexpr size_t kMaxUserFlagBytes = 4096;

// --since: an RFC 3339 UTC time or Unix seconds (ParseTimeFlag), or a duration ago ("10m").
absl::StatusOr<int64_t> ParseSinceMs(const std::string& value) {
  absl::StatusOr<int64_t> seconds = ParseTimeFlag("--since", value);
  if (seconds.ok()) return *seconds * 1000;
  absl::StatusOr<std::chrono::milliseconds> ago = common::ParseDuration(value);
  if (!ago.ok()) {
    return absl::InvalidArgumentError(
        StrCat("--since: ", Quote(value),
               " is neither an RFC 3339 UTC time (2026-01-31T12:00:00Z) nor a duration ago "
               "(10m, 1h30m)"));
  }
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  return std::max<int64_t>(1, (now - *ago).count());
}

// RFC 3339 UTC with milliseconds, e.g. "2026-01-31T12:00:00.123Z".
std::string FormatMillis(int64_t ms) {
  std::string seconds = FormatTime(ms / 1000);
  if (seconds.size() < 2 || seconds.back() != 'Z') return seconds;
  seconds.pop_back();
  char frac[8];
  std::snprintf(frac, sizeof(frac), ".%03lldZ", static_cast<long long>(ms % 1000));
  return seconds + frac;
}

std::string Shorten(const std::string& text, size_t width) {
  return text.size() <= width ? text : text.substr(0, width - 3) + "...";
}

std::string ChainText(const spinel::v1::AuditEvent& e) {
  std::string out;
  for (const std::string& actor : e.actor_chain()) {
    common::StrAppend(&out, out.empty() ? "" : " <- ", actor);
  }
  return out;
}

nlohmann::json EventToJson(const spinel::v1::AuditEvent& e) {
  // On whose behalf ("" and [] for nobody).
  nlohmann::json chain(std::vector<std::string>(e.actor_chain().begin(), e.actor_chain().end()));
  return {{"sequence", e.sequence()}, {"time", FormatMillis(e.time_ms())},
          {"time_ms", e.time_ms()},   {"actor", e.actor()},
          {"zone", e.zone()},         {"subject", e.subject()},
          {"kind", e.kind()},         {"outcome", e.outcome()},
          {"reason", e.reason()},     {"details", e.details()},
          {"user", e.user()},         {"user_issuer", e.user_issuer()},
          {"actor_chain", chain},     {"prev_hash", e.prev_hash()},
          {"hash", e.hash()}};
}

// --user: a user's subject as events record it, e.g. alice@example.org.
absl::Status CheckUserFlag(const AuditFlags& f) {
  if (f.command->count("--user") == 0) return absl::OkStatus();
  if (f.user.empty()) return absl::InvalidArgumentError("--user: must not be empty");
  if (f.user.size() > kMaxUserFlagBytes) {
    return absl::InvalidArgumentError(StrCat("--user: longer than ", kMaxUserFlagBytes, " bytes"));
  }
  for (const char c : f.user) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("--user: must not contain control characters");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<spinel::v1::ListAuditEventsRequest> ListRequest(const AuditFlags& f) {
  SPINEL_RETURN_IF_ERROR(CheckOutputFlag(f.common));
  spinel::v1::ListAuditEventsRequest request;
  request.set_zone(f.zone);
  request.set_kind(f.kind);
  SPINEL_RETURN_IF_ERROR(CheckUserFlag(f));
  request.set_user(f.user);
  if (f.limit < 0) return absl::InvalidArgumentError("--limit: must not be negative");
  request.set_limit(f.limit);
  if (f.command->count("--since") > 0) {
    SPINEL_ASSIGN_OR_RETURN(int64_t since_ms, ParseSinceMs(f.since));
    request.set_since_ms(since_ms);
  }
  return request;
}

int RunList(const AuditFlags& f) {
  absl::StatusOr<spinel::v1::ListAuditEventsRequest> request = ListRequest(f);
  if (!request.ok()) return ReportUsageError(request.status());
  spinel::v1::ListAuditEventsResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::ListAuditEvents, *request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    nlohmann::json events = nlohmann::json::array();
    for (const spinel::v1::AuditEvent& e : response.events()) events.push_back(EventToJson(e));
    PrintJson({{"events", events}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const spinel::v1::AuditEvent& e : response.events()) {
    rows.push_back({std::to_string(e.sequence()), FormatMillis(e.time_ms()), e.zone(), e.actor(),
                    e.subject(), e.kind(), e.outcome(), e.user(), ChainText(e),
                    Shorten(e.reason(), kReasonColumnWidth)});
  }
  PrintTable({"SEQ", "TIME", "ZONE", "ACTOR", "SUBJECT", "KIND", "OUTCOME", "ON BEHALF OF", "CHAIN",
              "REASON"},
             rows);
  return kExitOk;
}

int RunVerify(const AuditFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  spinel::v1::VerifyAuditResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::VerifyAudit, spinel::v1::Empty(), &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    nlohmann::json out = {{"ok", response.ok()}, {"events", response.events()}};
    if (response.ok()) {
      out["head_hash"] = response.head_hash();
    } else {
      out["first_bad_sequence"] = response.first_bad_sequence();
      out["problem"] = response.problem();
    }
    PrintJson(out);
  } else if (response.ok()) {
    std::cout << "audit log intact: " << response.events() << " events, head "
              << (response.events() == 0 ? "(empty)" : response.head_hash()) << "\n";
  } else {
    std::cout << "audit log BROKEN at event " << response.first_bad_sequence() << ": "
              << response.problem() << "\n";
  }
  return response.ok() ? kExitOk : kExitServerError;
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, int* exit_code) {
  CLI::App* audit =
      app.add_subcommand("audit", "The hash-chained audit log")->require_subcommand(1);

  auto list = std::make_shared<AuditFlags>();
  list->command = audit->add_subcommand("list", "List audit events (oldest first)");
  AddListingFlags(list->command, &list->common);
  list->command->add_option("--zone", list->zone, "Only events of this zone");
  list->command->add_option("--since", list->since,
                            "Only events at or after this time: RFC 3339 UTC, Unix seconds, or "
                            "a duration ago such as 10m");
  list->command->add_option("--kind", list->kind, "Only events of this kind, e.g. authorize");
  list->command->add_option("--user", list->user,
                            "Only events on behalf of this user (the user's subject, exactly, "
                            "e.g. alice@example.org)");
  list->command->add_option("--limit", list->limit, "Only the newest N events (0: all)");
  list->command->callback([list, exit_code] { *exit_code = RunList(*list); });

  auto verify = std::make_shared<AuditFlags>();
  verify->command =
      audit->add_subcommand("verify", "Recompute the hash chain; name the first broken event");
  AddListingFlags(verify->command, &verify->common);
  verify->command->callback([verify, exit_code] { *exit_code = RunVerify(*verify); });
}

}  // namespace spinel::server::cli
