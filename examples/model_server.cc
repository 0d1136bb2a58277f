// spinel-example-model-server: an inference-zone workload. Gets its X509-SVID from the Workload
// API, prints it, and as an mTLS client with that SVID:
//   --retriever ADDR               asks the retriever for context (inference peers retrieval:
//                                  the handshake succeeds);
//   --tool-runner ADDR             speaks MCP to the tool runner (examples/mcp_client.h):
//                                  initialize and tools/list, and with --invoke T a tools/call
//                                  of tool T with arguments --context k=v (and --approval-id
//                                  ID); every request carries its WIT-SVID and a new Workload
//                                  Proof Token (examples/wit_credentials.h). With --user-token
//                                  FILE it acts for that user: it exchanges the user's token at
//                                  the agent for a delegation token whose audience is the tool
//                                  runner's SPIFFE ID (proved in the handshake) and sends it,
//                                  bound by each WPT. Prints the verdict and exits 0 ALLOW,
//                                  3 DENY, 4 APPROVAL_REQUIRED, 5 handshake refused, 6 proof
//                                  refused (HTTP 400).
// Negative cases for the demo: --replay-wpt sends tools/list twice with the same WPT;
// --wit-without-key signs WPTs with a fresh key instead of the WIT's (a copied WIT).
// With --watch it then stays and prints live rotations.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/rfc3339.h"
#include "common/strings.h"
#include "examples/example_app.h"
#include "examples/mcp_client.h"
#include "examples/wit_credentials.h"

namespace ex = spinel::examples;
using nlohmann::json;
using spinel::common::StrCat;

namespace {

constexpr char kRole[] = "model-server";

struct ToolFlags {
  std::string address;
  std::string tool;
  std::map<std::string, std::string> arguments;
  std::string approval_id;
  std::string user_token_file;
  bool replay_wpt = false;
  bool wit_without_key = false;
};

// Makes the proof headers of each request: exchanges the user's token once (for the audience
// the server proved), then a new WPT per request, or the previous one again when asked to.
class ProofMaker {
 public:
  ProofMaker(ex::WitCredentials& credentials, std::string user_token)
      : credentials_(credentials), user_token_(std::move(user_token)) {}

  absl::StatusOr<std::vector<spinel::common::HttpHeader>> Make(const std::string& target,
                                                               const std::string& peer) {
    if (replay_next_ && !last_.empty()) {
      replay_next_ = false;
      return last_;
    }
    if (!user_token_.empty() && delegation_.empty()) {
      auto exchanged = credentials_.Exchange(user_token_, peer);
      if (!exchanged.ok()) return exchanged.status();
      delegation_ = exchanged->access_token();
      std::string chain;
      for (const std::string& actor : exchanged->actor_chain()) {
        spinel::common::StrAppend(&chain, chain.empty() ? "" : " <- ", actor);
      }
      ex::Say(kRole, "delegation",
              StrCat("for ", exchanged->user(), " (", exchanged->user_issuer(), ") via ", chain,
                     ", audience ", peer, ", expires in ", exchanged->expires_in(), "s"));
    }
    auto headers = credentials_.ProofHeaders(target, delegation_);
    if (headers.ok()) last_ = *headers;
    return headers;
  }
  void ReplayNext() { replay_next_ = true; }

 private:
  ex::WitCredentials& credentials_;
  const std::string user_token_;
  std::string delegation_;
  std::vector<spinel::common::HttpHeader> last_;
  bool replay_next_ = false;
};

int ExitCodeFor(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kPermissionDenied) return ex::kExitRefused;
  if (status.code() == absl::StatusCode::kUnauthenticated) return ex::kExitProofRefused;
  return ex::kExitError;
}

int Failed(const std::string& what, const absl::Status& status) {
  const bool refused = status.code() == absl::StatusCode::kPermissionDenied ||
                       status.code() == absl::StatusCode::kUnauthenticated;
  ex::Say(kRole, refused ? "REFUSED" : "error", StrCat(what, ": ", status.message()));
  return ExitCodeFor(status);
}

int ExitCodeFor(const std::string& verdict) {
  if (verdict == "ALLOW") return 0;
  if (verdict == "DENY") return ex::kExitDeny;
  if (verdict == "APPROVAL_REQUIRED") return ex::kExitApprovalRequired;
  return ex::kExitError;
}

int PrintVerdict(const json& result) {
  const json verdict = result.value("structuredContent", json::object());
  if (!verdict.contains("verdict")) {
    ex::Say(kRole, "error", StrCat("tools/call: ", result.dump()));
    return ex::kExitError;
  }
  const std::string name = verdict["verdict"];
  const std::string rule = verdict.value("rule", "");
  ex::Say(kRole, "verdict", StrCat(name, rule.empty() ? "" : StrCat(" (rule ", rule, ")")));
  ex::Say(kRole, "reason", verdict.value("reason", ""));
  if (name == "APPROVAL_REQUIRED") {
    const int64_t expires = verdict.value("approval_expires_at", int64_t{0});
    ex::Say(kRole, "approval",
            StrCat(verdict.value("approval_id", ""), " (pending; expires ",
                   spinel::common::FormatRfc3339(expires), ")"));
  }
  if (verdict.contains("result")) ex::Say(kRole, "result", verdict["result"].get<std::string>());
  return ExitCodeFor(name);
}

int ListTools(ex::McpClient& client, ProofMaker& proof, bool replay) {
  auto listed = client.Call("tools/list", json::object());
  if (!listed.ok()) return Failed("tools/list", listed.status());
  std::string names;
  for (const json& tool : listed->value("tools", json::array())) {
    spinel::common::StrAppend(&names, names.empty() ? "" : ", ", tool.value("name", "?"));
  }
  ex::Say(kRole, "tools", names);
  if (!replay) return 0;
  proof.ReplayNext();
  ex::Say(kRole, "replay", "tools/list again with the same Workload Proof Token");
  auto again = client.Call("tools/list", json::object());
  if (!again.ok()) return Failed("tools/list (replayed WPT)", again.status());
  ex::Say(kRole, "error", "the replayed WPT was accepted");
  return ex::kExitError;
}

int UseTools(ex::LiveIdentity& identity, const ToolFlags& flags) {
  auto credentials = ex::WitCredentials::Fetch(identity.client().channel());
  if (!credentials.ok()) return Failed("no WIT-SVID", credentials.status());
  if (flags.wit_without_key) {
    if (absl::Status s = (*credentials)->SignWithUnboundKey(); !s.ok()) return Failed("key", s);
    ex::Say(kRole, "forged", "WPTs signed with a fresh key, not the WIT-SVID's");
  }
  std::string user_token;
  if (!flags.user_token_file.empty()) {
    auto read = spinel::common::ReadFile(flags.user_token_file);
    if (!read.ok()) return Failed("--user-token", read.status());
    user_token = *read;
    user_token.erase(user_token.find_last_not_of(" \t\r\n") + 1);
  }
  ProofMaker proof(**credentials, user_token);
  ex::McpClient client([&identity] { return identity.Current(); }, flags.address,
                       [&proof](const std::string& target, const std::string& peer) {
                         return proof.Make(target, peer);
                       });
  auto initialized = client.Initialize(kRole);
  if (!initialized.ok()) return Failed(StrCat("MCP ", client.target_uri()), initialized.status());
  ex::Say(kRole, "mcp",
          StrCat("session with ", client.peer_id(), " (protocol ",
                 initialized->value("protocolVersion", "?"), ", as ", (*credentials)->spiffe_id(),
                 user_token.empty() ? ", on behalf of nobody)" : ")"));
  if (int listed = ListTools(client, proof, flags.replay_wpt); listed != 0) return listed;
  if (flags.tool.empty()) return 0;
  json params = {{"name", flags.tool}, {"arguments", flags.arguments}};
  if (!flags.approval_id.empty()) params["_meta"] = {{"spinel/approval_id", flags.approval_id}};
  auto called = client.Call("tools/call", params);
  if (!called.ok()) return Failed(StrCat("tools/call ", flags.tool), called.status());
  return PrintVerdict(*called);
}

void AddToolFlags(CLI::App& app, ToolFlags* flags, std::vector<std::string>* arguments) {
  app.add_option("--tool-runner", flags->address, "host:port of the tool runner (MCP server)");
  app.add_option("--invoke", flags->tool, "Tool to call through the tool runner");
  app.add_option("--context", *arguments, "Tool argument key=value (repeatable)");
  app.add_option("--approval-id", flags->approval_id, "Approval granted for this call");
  app.add_option("--user-token", flags->user_token_file, "Act for the user of this token file");
  app.add_flag("--replay-wpt", flags->replay_wpt, "Send a Workload Proof Token twice");
  app.add_flag("--wit-without-key", flags->wit_without_key,
               "Sign WPTs with a fresh key, not the WIT-SVID's");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spinel-example-model-server: a model server calling retrieval and tools"};
  ex::ExampleOptions options;
  std::string retriever, query = "refund policy";
  ToolFlags flags;
  std::vector<std::string> arguments;
  ex::AddExampleOptions(app, &options);
  app.add_option("--retriever", retriever, "host:port of the retriever to query");
  app.add_option("--query", query, "Text to retrieve context for");
  AddToolFlags(app, &flags, &arguments);
  CLI11_PARSE(app, argc, argv);
  for (const std::string& kv : arguments) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      ex::Say(kRole, "error", StrCat("--context: expected key=value, got ", kv));
      return 2;
    }
    flags.arguments[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  ex::InstallStopHandlers();
  auto identity = ex::StartIdentity(kRole, options);
  if (!identity) return ex::kExitError;
  int exit_code = 0;
  if (!retriever.empty()) {
    auto reply = ex::CallPeer(kRole, "retriever", *identity, retriever, "query " + query);
    if (reply.ok())
      ex::Say(kRole, "context", *reply);
    else
      exit_code = ExitCodeFor(reply.status());
  }
  if (exit_code == 0 && !flags.address.empty()) exit_code = UseTools(*identity, flags);
  return ex::FinishWatching(kRole, options, *identity, exit_code);
}
