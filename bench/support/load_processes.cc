#include "bench/support/load_processes.h"

#include <fcntl.h>
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::bench {

using common::StrCat;

std::string Tail(const std::string& text, size_t bytes) {
  return text.size() <= bytes ? text : text.substr(text.size() - bytes);
}

absl::StatusOr<CliResult> RunArgv(const std::vector<std::string>& argv) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return absl::InternalError("pipe failed");
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    ::dup2(null, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(err_pipe[1], STDERR_FILENO);
    ::execv(args[0], args.data());
    _exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CliResult result;
  // Commands here print little; read stderr on a thread so neither pipe can fill up.
  std::thread err_reader([&] {
    char buffer[4096];
    ssize_t n;
    while ((n = ::read(err_pipe[0], buffer, sizeof(buffer))) > 0) result.err.append(buffer, n);
  });
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(out_pipe[0], buffer, sizeof(buffer))) > 0) result.out.append(buffer, n);
  err_reader.join();
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return absl::InternalError("fork failed");
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// ---- LoadServer -----------------------------------------------------------------------

namespace {

std::string Trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

}  // namespace

LoadServer::LoadServer(const TempDir& dir, LoadServerOptions options)
    : config_path_(dir.File("server.yaml")),
      data_dir_(dir.File("server-data")),
      log_path_(dir.File("server.log")),
      options_(std::move(options)) {}

LoadServer::~LoadServer() { process_.Kill(SIGKILL); }

absl::Status LoadServer::WriteConfig(const std::string& agent_api) const {
  std::ofstream config(config_path_);
  config << "trust_domain: " << kLoadControlTd << "\n"
         << "data_dir: " << data_dir_ << "\n"
         << "zones_dir: " << source_dir_ << "/trust-zones/zones\n"
         << "listen:\n"
         << "  agent_api: " << agent_api << "\n"
         << "  https: \"\"\n"
         << "log:\n  level: warn\n"
         << "limits:\n"
         << "  signings_per_agent_per_second: " << options_.signings_per_agent_per_second << "\n"
         << options_.extra_config;
  config.close();
  if (!config) return absl::InternalError(StrCat("cannot write ", config_path_));
  return absl::OkStatus();
}

absl::Status LoadServer::Start(std::chrono::milliseconds timeout) {
  source_dir_ = SourceDir();
  binary_ = BuildDir() + "/server/spinel-server";
  const bool first = agent_api_address_.empty();
  SPINEL_RETURN_IF_ERROR(WriteConfig(first ? "127.0.0.1:0" : agent_api_address_));
  std::vector<std::string> argv = {binary_, "run", "--config", config_path_};
  const long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  if (options_.pin_one_core && cpus >= 2 && ::access("/usr/bin/taskset", X_OK) == 0) {
    pinned_cpu_ = static_cast<int>(cpus - 1);
    argv.insert(argv.begin(), {"/usr/bin/taskset", "-c", std::to_string(pinned_cpu_)});
  }
  const std::string addr_file = data_dir_ + "/agent-api.addr";
  ::unlink(addr_file.c_str());
  SPINEL_RETURN_IF_ERROR(process_.Start(argv, log_path_));
  auto admin = Admin();
  bool healthy = WaitFor(
      [&] {
        if (!process_.Running()) return true;
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
        spinel::v1::Empty request;
        spinel::v1::HealthResponse response;
        return admin->Health(&context, request, &response).ok() &&
               ::access(addr_file.c_str(), F_OK) == 0;
      },
      timeout);
  if (!process_.Running()) {
    return absl::InternalError(StrCat("spinel-server exited:\n", LogTail()));
  }
  if (!healthy)
    return absl::DeadlineExceededError(StrCat("spinel-server not healthy:\n", LogTail()));
  agent_api_address_ = Trim(ReadWholeFile(addr_file));
  return absl::OkStatus();
}

void LoadServer::Stop() {
  if (!process_.Running()) return;
  ::kill(process_.pid(), SIGTERM);
  if (!WaitFor([&] { return !process_.Running(); }, std::chrono::seconds(30))) {
    process_.Kill(SIGKILL);
  }
}

absl::StatusOr<CliResult> LoadServer::Cli(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {binary_};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--socket");
  argv.push_back(socket_path());
  return RunArgv(argv);
}

std::unique_ptr<spinel::v1::AdminService::Stub> LoadServer::Admin() const {
  return spinel::v1::AdminService::NewStub(
      grpc::CreateChannel("unix:" + socket_path(), grpc::InsecureChannelCredentials()));
}

absl::StatusOr<std::pair<std::string, std::string>> LoadServer::JoinToken() const {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  spinel::v1::CreateJoinTokenRequest request;
  request.set_ttl_seconds(3600);
  spinel::v1::CreateJoinTokenResponse response;
  grpc::Status status = Admin()->CreateJoinToken(&context, request, &response);
  if (!status.ok()) return absl::InternalError(StrCat("CreateJoinToken: ", status.error_message()));
  return std::make_pair(response.token(), response.agent_spiffe_id());
}

absl::StatusOr<std::string> LoadServer::ControlBundlePem() const {
  SPINEL_ASSIGN_OR_RETURN(CliResult shown,
                          Cli({"bundle", "show", "--trust-domain", kLoadControlTd}));
  if (shown.exit_code != 0) return absl::InternalError(StrCat("bundle show: ", shown.err));
  return shown.out;
}

std::string LoadServer::LogTail() const { return Tail(ReadWholeFile(log_path_)); }

spinel::v1::Entry MakeEntry(const std::string& spiffe_id, const std::string& parent_id, int uid,
                            int64_t x509_ttl_seconds) {
  spinel::v1::Entry entry;
  entry.set_spiffe_id(spiffe_id);
  entry.set_parent_id(parent_id);
  spinel::v1::Selector* selector = entry.add_selectors();
  selector->set_type("unix");
  selector->set_value(StrCat("uid:", uid));
  entry.set_x509_svid_ttl_seconds(x509_ttl_seconds);
  return entry;
}

absl::StatusOr<std::vector<std::string>> CreateEntries(
    spinel::v1::AdminService::Stub& admin, const std::vector<spinel::v1::Entry>& entries,
    size_t batch) {
  std::vector<std::string> ids;
  ids.reserve(entries.size());
  for (size_t start = 0; start < entries.size(); start += batch) {
    spinel::v1::CreateEntriesRequest request;
    for (size_t i = start; i < std::min(entries.size(), start + batch); ++i) {
      *request.add_entries() = entries[i];
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    spinel::v1::CreateEntriesResponse response;
    grpc::Status status = admin.CreateEntries(&context, request, &response);
    if (!status.ok()) return absl::InternalError(StrCat("CreateEntries: ", status.error_message()));
    for (const spinel::v1::EntryResult& result : response.results()) {
      if (result.error_code() != 0) {
        return absl::InternalError(
            StrCat("entry ", result.entry().spiffe_id(), ": ", result.error()));
      }
      ids.push_back(result.entry().id());
    }
  }
  return ids;
}

// ---- LoadAgentProcess -----------------------------------------------------------------

LoadAgentProcess::LoadAgentProcess(const TempDir& dir, const LoadServer& server)
    : server_(server),
      dir_(dir.path()),
      socket_path_(dir.File("agent-sock/workload.sock")),
      log_path_(dir.File("agent.log")) {}

absl::Status LoadAgentProcess::Start(const std::string& join_token) {
  binary_ = BuildDir() + "/agent/spinel-agent";
  // Workloads of other uids (setpriv) must reach the socket inside the directory.
  ::chmod(dir_.c_str(), 0755);
  SPINEL_ASSIGN_OR_RETURN(std::string bundle, server_.ControlBundlePem());
  std::ofstream(dir_ + "/bootstrap.pem") << bundle;
  const std::string config_path = dir_ + "/agent.yaml";
  std::ofstream config(config_path);
  config << "trust_domain: " << kLoadControlTd << "\n"
         << "server_address: " << server_.agent_api_address() << "\n"
         << "trust_bundle: " << dir_ << "/bootstrap.pem\n"
         << "data_dir: " << dir_ << "/agent-data\n"
         << "socket_path: " << socket_path_ << "\n"
         << "log:\n  level: warn\n"
         << "reconnect: {min: 200ms, max: 2s}\n";
  config.close();
  if (!config) return absl::InternalError("cannot write the agent config");
  SPINEL_RETURN_IF_ERROR(process_.Start(
      {binary_, "run", "--config", config_path, "--join-token", join_token}, log_path_));
  bool ready =
      WaitFor([&] { return !process_.Running() || ::access(socket_path_.c_str(), F_OK) == 0; },
              std::chrono::seconds(60));
  if (!process_.Running()) return absl::InternalError(StrCat("spinel-agent exited:\n", LogTail()));
  if (!ready) return absl::DeadlineExceededError(StrCat("no agent socket:\n", LogTail()));
  return absl::OkStatus();
}

void LoadAgentProcess::Stop() {
  if (!process_.Running()) return;
  ::kill(process_.pid(), SIGTERM);
  if (!WaitFor([&] { return !process_.Running(); }, std::chrono::seconds(30))) {
    process_.Kill(SIGKILL);
  }
}

std::string LoadAgentProcess::LogTail() const { return Tail(ReadWholeFile(log_path_)); }

}  // namespace spinel::bench
