#include "examples/authorize_client.h"

#include <sstream>

#include "common/grpc_status.h"
#include "common/strings.h"
#include "examples/workload_identity.h"

namespace spinel::examples {

absl::StatusOr<ToolRequest> ParseToolRequest(const std::string& line) {
  std::istringstream words(line);
  std::string verb;
  ToolRequest request;
  if (!(words >> verb >> request.tool) || verb != "invoke") {
    return absl::InvalidArgumentError("expected: invoke <tool> [key=value ...]");
  }
  for (std::string word; words >> word;) {
    size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          common::StrCat("expected key=value, got ", common::Quote(word)));
    }
    if (word.compare(0, eq, "approval") == 0)
      request.approval_id = word.substr(eq + 1);
    else
      request.context[word.substr(0, eq)] = word.substr(eq + 1);
  }
  return request;
}

std::string FormatToolRequest(const ToolRequest& request) {
  std::string line = common::StrCat("invoke ", request.tool);
  for (const auto& [key, value] : request.context) common::StrAppend(&line, " ", key, "=", value);
  if (!request.approval_id.empty()) common::StrAppend(&line, " approval=", request.approval_id);
  return line;
}

AuthorizeClient::AuthorizeClient(std::shared_ptr<grpc::Channel> workload_socket)
    : stub_(spinel::v1::Authorization::NewStub(std::move(workload_socket))) {}

absl::StatusOr<spinel::v1::AuthorizeResponse> AuthorizeClient::AuthorizeTool(
    const std::vector<common::Certificate>& peer_chain, const ToolRequest& request) {
  spinel::v1::AuthorizeRequest call;
  for (const common::Certificate& cert : peer_chain) {
    call.mutable_x509_svid()->add_certificates(cert.ToDer());
  }
  call.set_resource(common::StrCat("tool:", request.tool));
  call.set_action("invoke");
  for (const auto& [key, value] : request.context) (*call.mutable_context())[key] = value;
  call.set_approval_id(request.approval_id);
  auto context = WorkloadApiClient::NewContext(std::chrono::seconds(10));
  spinel::v1::AuthorizeResponse response;
  grpc::Status status = stub_->Authorize(context.get(), call, &response);
  if (!status.ok()) return common::FromGrpcStatus(status);
  return response;
}

}  // namespace spinel::examples
