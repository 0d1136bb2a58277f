#include "bench/support/spinel_processes.h"

#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "common/strings.h"

namespace spinel::bench {

using common::StrCat;

namespace {

std::string TrimLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

absl::StatusOr<nlohmann::json> JsonOutput(const CommandResult& result, const std::string& what) {
  if (result.exit_code != 0) {
    return absl::InternalError(StrCat(what, " failed: ", result.Describe()));
  }
  nlohmann::json parsed = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::InternalError(StrCat(what, " printed no JSON: ", result.Describe()));
  }
  return parsed;
}

}  // namespace

ServerProcess::ServerProcess(const TempDir& dir, ServerOptions options)
    : dir_(dir),
      options_(std::move(options)),
      binary_(BuildDir() + "/server/spinel-server"),
      data_dir_(dir.File("data")),
      log_path_(dir.File("server.log")) {}

absl::Status ServerProcess::Start() {
  const std::string zones =
      options_.zones_dir.empty() ? SourceDir() + "/trust-zones/zones" : options_.zones_dir;
  absl::StatusOr<std::string> config = dir_.Write(
      "server.yaml",
      StrCat("trust_domain: ", kBenchControlTd, "\ndata_dir: ", data_dir_, "\nzones_dir: ", zones,
             "\nlisten:\n  agent_api: 127.0.0.1:0\n  https: 127.0.0.1:0\n", options_.extra_yaml));
  if (!config.ok()) return config.status();
  if (absl::Status started = process_.Start({binary_, "run", "--config", *config}, log_path_);
      !started.ok()) {
    return started;
  }
  bool exited = false;
  const bool healthy = WaitFor([&] {
    if (!process_.Running()) return exited = true;
    return Cli("healthcheck").exit_code == 0;
  });
  if (exited || !healthy) {
    return absl::UnavailableError(
        StrCat("spinel-server ", exited ? "exited" : "did not become healthy", ":\n", Log()));
  }
  if (!WaitFor([&] { return !AgentApiAddress().empty(); })) {
    return absl::UnavailableError("spinel-server wrote no agent-api.addr");
  }
  return absl::OkStatus();
}

CommandResult ServerProcess::Cli(const std::string& args) const {
  return RunShellCommand(StrCat("SPINEL_ADMIN_SOCKET=", ShellQuote(data_dir_ + "/admin.sock"), " ",
                                ShellQuote(binary_), " ", args));
}

absl::StatusOr<JoinToken> ServerProcess::NewJoinToken() const {
  absl::StatusOr<nlohmann::json> token =
      JsonOutput(Cli("token generate --ttl 10m --output json"), "token generate");
  if (!token.ok()) return token.status();
  return JoinToken{(*token)["token"].get<std::string>(),
                   (*token)["agent_spiffe_id"].get<std::string>()};
}

absl::StatusOr<std::string> ServerProcess::Register(const std::string& spiffe_id,
                                                    const std::string& parent, int uid,
                                                    const std::string& extra) const {
  absl::StatusOr<nlohmann::json> created = JsonOutput(
      Cli(StrCat("entry create --spiffe-id ", ShellQuote(spiffe_id), " --parent-id ",
                 ShellQuote(parent), " --selector unix:uid:", uid, " ", extra, " --output json")),
      "entry create");
  if (!created.ok()) return created.status();
  const nlohmann::json& result = (*created)["results"][0];
  if (result["status"] != "created") {
    return absl::InternalError(StrCat("entry create: ", created->dump()));
  }
  return result["entry"]["id"].get<std::string>();
}

std::string ServerProcess::AgentApiAddress() const {
  return TrimLine(ReadWholeFile(data_dir_ + "/agent-api.addr"));
}

AgentProcess::AgentProcess(const TempDir& dir, const ServerProcess& server, std::string extra_yaml)
    : dir_(dir),
      server_(server),
      extra_yaml_(std::move(extra_yaml)),
      binary_(BuildDir() + "/agent/spinel-agent"),
      socket_path_(dir.File("sock/workload.sock")),
      data_dir_(dir.File("agent-data")),
      log_path_(dir.File("agent.log")) {}

absl::Status AgentProcess::Start(const std::string& join_token) {
  if (::chmod(dir_.path().c_str(), 0755) != 0) return absl::InternalError("chmod failed");
  const CommandResult bundle = server_.Cli(StrCat("bundle show --trust-domain ", kBenchControlTd));
  if (bundle.exit_code != 0) {
    return absl::InternalError(StrCat("bundle show failed: ", bundle.Describe()));
  }
  absl::StatusOr<std::string> bootstrap = dir_.Write("bootstrap.pem", bundle.out);
  if (!bootstrap.ok()) return bootstrap.status();
  absl::StatusOr<std::string> config = dir_.Write(
      "agent.yaml",
      StrCat("trust_domain: ", kBenchControlTd, "\nserver_address: ", server_.AgentApiAddress(),
             "\ntrust_bundle: ", *bootstrap, "\ndata_dir: ", data_dir_,
             "\nsocket_path: ", socket_path_, "\nreconnect: {min: 200ms, max: 2s}\n", extra_yaml_));
  if (!config.ok()) return config.status();
  std::vector<std::string> argv = {binary_, "run", "--config", *config};
  if (!join_token.empty()) {
    argv.push_back("--join-token");
    argv.push_back(join_token);
  }
  const size_t log_before = Log().size();  // the log is appended to across restarts
  if (absl::Status started = process_.Start(argv, log_path_); !started.ok()) return started;
  bool exited = false;
  const bool healthy = WaitFor([&] {
    if (!process_.Running()) return exited = true;
    return Log().find("spinel-agent started", log_before) != std::string::npos;
  });
  if (exited || !healthy) {
    return absl::UnavailableError(
        StrCat("spinel-agent ", exited ? "exited" : "did not start", ":\n", Log()));
  }
  return absl::OkStatus();
}

CommandResult AgentProcess::Api(const std::string& args) const {
  return RunShellCommand(
      StrCat(ShellQuote(binary_), " ", args, " --socket ", ShellQuote(socket_path_)));
}

}  // namespace spinel::bench
