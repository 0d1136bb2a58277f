// `approval list|show|approve|deny`: step-up approval requests waiting for (or decided by) an
// operator. Like every command, approve/deny send the local user name as the `spinel-operator`
// gRPC metadata (admin_client.h); the server records it as decided_by ("operator:<user>") and
// in the audit log. An approval made on behalf of a user shows that user, the user's issuer
// and the actor chain it is bound to (current actor first).
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <memory>

#include "common/strings.h"
#include "server/cli/admin_client.h"
#include "server/cli/command_groups.h"

namespace spinel::server::cli {
namespace {

constexpr char kStates[] = "pending, approved, denied, used, expired";

struct ApprovalFlags {
  CommonFlags common;
  std::string id;      // show, approve, deny
  std::string reason;  // approve, deny
  std::string state;   // list
  std::string zone;    // list
};

// "spiffe://a <- spiffe://b": the actor chain, current actor first.
std::string ChainText(const google::protobuf::RepeatedPtrField<std::string>& chain) {
  std::string out;
  for (const std::string& actor : chain) common::StrAppend(&out, out.empty() ? "" : " <- ", actor);
  return out;
}

nlohmann::json ApprovalToJson(const spinel::v1::Approval& a) {
  nlohmann::json context = nlohmann::json::object();
  for (const auto& [key, value] : a.context()) context[key] = value;
  // On whose behalf ("" and [] for nobody).
  nlohmann::json chain(std::vector<std::string>(a.actor_chain().begin(), a.actor_chain().end()));
  return {{"id", a.id()},
          {"state", a.state()},
          {"subject", a.subject()},
          {"resource", a.resource()},
          {"action", a.action()},
          {"context", context},
          {"context_digest", a.context_digest()},
          {"user", a.user()},
          {"user_issuer", a.user_issuer()},
          {"actor_chain", chain},
          {"requesting_agent", a.requesting_agent()},
          {"zone", a.zone()},
          {"rule_id", a.rule_id()},
          {"created_at", FormatTime(a.created_at())},
          {"expires_at", FormatTime(a.expires_at())},
          {"decided_by", a.decided_by()},
          {"decision_reason", a.decision_reason()},
          {"decided_at", FormatTime(a.decided_at(), "")},
          {"used_at", FormatTime(a.used_at(), "")}};
}

Fields ApprovalFields(const spinel::v1::Approval& a) {
  Fields fields = {{"ID", a.id()},
                   {"State", a.state()},
                   {"Subject", a.subject()},
                   {"Resource", a.resource()},
                   {"Action", a.action()}};
  // The context in key order (the proto map has none).
  std::map<std::string, std::string> context(a.context().begin(), a.context().end());
  if (context.empty()) fields.push_back({"Context", "(none)"});
  for (const auto& [key, value] : context) {
    fields.push_back({"Context", common::StrCat(key, "=", value)});
  }
  if (!a.user().empty()) {
    fields.insert(fields.end(), {{"On behalf of", a.user()},
                                 {"User issuer", a.user_issuer()},
                                 {"Actor chain", ChainText(a.actor_chain())}});
  }
  fields.insert(fields.end(), {{"Requesting agent", a.requesting_agent()},
                               {"Zone", a.zone()},
                               {"Rule", a.rule_id()},
                               {"Created at", FormatTime(a.created_at())},
                               {"Expires at", FormatTime(a.expires_at())}});
  if (!a.decided_by().empty()) {
    fields.insert(fields.end(), {{"Decided by", a.decided_by()},
                                 {"Decided at", FormatTime(a.decided_at())},
                                 {"Reason", a.decision_reason()}});
  }
  if (a.used_at() != 0) fields.push_back({"Used at", FormatTime(a.used_at())});
  return fields;
}

void PrintApproval(const spinel::v1::Approval& approval, const CommonFlags& flags) {
  if (flags.json()) {
    PrintJson(ApprovalToJson(approval));
  } else {
    PrintFields(ApprovalFields(approval));
  }
}

int RunList(const ApprovalFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  const std::string states[] = {"", "pending", "approved", "denied", "used", "expired"};
  if (std::find(std::begin(states), std::end(states), f.state) == std::end(states)) {
    return ReportUsageError(
        common::StrCat("--state: ", common::Quote(f.state), " is not one of ", kStates));
  }
  spinel::v1::ListApprovalsRequest request;
  request.set_state(f.state);
  request.set_zone(f.zone);
  spinel::v1::ListApprovalsResponse response;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::ListApprovals, request, &response);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    nlohmann::json approvals = nlohmann::json::array();
    for (const spinel::v1::Approval& a : response.approvals()) {
      approvals.push_back(ApprovalToJson(a));
    }
    PrintJson({{"approvals", approvals}});
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const spinel::v1::Approval& a : response.approvals()) {
    rows.push_back({a.id(), a.state(), a.zone(), a.subject(), a.user(), a.resource(), a.action(),
                    FormatTime(a.expires_at())});
  }
  PrintTable({"ID", "STATE", "ZONE", "SUBJECT", "ON BEHALF OF", "RESOURCE", "ACTION", "EXPIRES AT"},
             rows);
  return kExitOk;
}

int RunShow(const ApprovalFlags& f) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  if (f.id.empty()) return ReportUsageError("ID: an approval id is required");
  spinel::v1::ApprovalIdRequest request;
  request.set_id(f.id);
  spinel::v1::Approval approval;
  grpc::Status status =
      Call(f.common, &spinel::v1::AdminService::Stub::GetApproval, request, &approval);
  if (!status.ok()) return ReportServerError(status, f.common);
  PrintApproval(approval, f.common);
  return kExitOk;
}

int RunDecision(const ApprovalFlags& f, bool approve) {
  if (absl::Status ok = CheckOutputFlag(f.common); !ok.ok()) return ReportUsageError(ok);
  if (f.id.empty()) return ReportUsageError("ID: an approval id is required");
  if (f.reason.empty()) return ReportUsageError("--reason: required (say why)");
  spinel::v1::ApprovalDecisionRequest request;
  request.set_id(f.id);
  request.set_reason(f.reason);
  spinel::v1::Approval approval;
  grpc::Status status = Call(f.common,
                             approve ? &spinel::v1::AdminService::Stub::ApproveApproval
                                     : &spinel::v1::AdminService::Stub::DenyApproval,
                             request, &approval);
  if (!status.ok()) return ReportServerError(status, f.common);
  if (f.common.json()) {
    PrintJson(ApprovalToJson(approval));
  } else {
    std::cout << (approve ? "Approved " : "Denied ") << approval.id() << " (" << approval.resource()
              << " " << approval.action() << " for " << approval.subject() << ")\n";
    PrintFields(ApprovalFields(approval));
  }
  return kExitOk;
}

int RunApprove(const ApprovalFlags& f) { return RunDecision(f, /*approve=*/true); }
int RunDeny(const ApprovalFlags& f) { return RunDecision(f, /*approve=*/false); }

std::shared_ptr<ApprovalFlags> AddCommand(CLI::App* parent, const char* name, const char* help,
                                          int* exit_code, int (*run)(const ApprovalFlags&)) {
  auto flags = std::make_shared<ApprovalFlags>();
  CLI::App* command = parent->add_subcommand(name, help);
  AddListingFlags(command, &flags->common);
  command->callback([flags, exit_code, run] { *exit_code = run(*flags); });
  return flags;
}

}  // namespace

void RegisterApprovalCommands(CLI::App& app, int* exit_code) {
  CLI::App* approval =
      app.add_subcommand("approval", "Step-up approval requests")->require_subcommand(1);
  auto list =
      AddCommand(approval, "list", "List approval requests (newest first)", exit_code, RunList);
  approval->get_subcommand("list")->add_option(
      "--state", list->state, common::StrCat("Only requests in this state: ", kStates));
  approval->get_subcommand("list")->add_option("--zone", list->zone, "Only requests of this zone");

  auto show = AddCommand(approval, "show", "Show one approval request", exit_code, RunShow);
  approval->get_subcommand("show")->add_option("ID", show->id, "The approval id")->required();
  struct Decision {
    const char* name;
    const char* help;
    int (*run)(const ApprovalFlags&);
  };
  for (const Decision& d :
       {Decision{"approve", "Approve a pending request (it allows one identical access)",
                 RunApprove},
        Decision{"deny", "Deny a pending request", RunDeny}}) {
    auto flags = AddCommand(approval, d.name, d.help, exit_code, d.run);
    CLI::App* command = approval->get_subcommand(d.name);
    command->add_option("ID", flags->id, "The approval id")->required();
    command->add_option("--reason", flags->reason, "Why (recorded and audited)")->required();
  }
}

}  // namespace spinel::server::cli
