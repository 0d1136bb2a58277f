#include "examples/tool_catalog.h"

#include "common/strings.h"

namespace spinel::examples {
namespace {

using common::StrCat;
using nlohmann::json;

json StringProperty(const std::string& description) {
  return {{"type", "string"}, {"description", description}};
}

json Schema(json properties, std::vector<std::string> required) {
  properties["approval_id"] = StringProperty("An approval granted for exactly this call");
  return {{"type", "object"}, {"properties", std::move(properties)}, {"required", required}};
}

McpTool Deploy(const std::string& environment) {
  return {StrCat("deploy.", environment), StrCat("Deploy a service version to ", environment),
          Schema({{"service", StringProperty("Service to deploy, e.g. checkout")},
                  {"version", StringProperty("Version to deploy, e.g. v1.4.2")},
                  {"environment", {{"type", "string"}, {"enum", {environment}}}}},
                 {"service", "version"})};
}

std::string Arg(const json& arguments, const std::string& name) {
  auto found = arguments.find(name);
  return found != arguments.end() && found->is_string() ? found->get<std::string>() : "?";
}

}  // namespace

const std::vector<McpTool>& ToolRunnerTools() {
  static const std::vector<McpTool> tools = {
      {"search_docs", "Search the engineering handbook",
       Schema({{"query", StringProperty("What to look for")}}, {"query"})},
      {"jira.create_ticket", "Open a Jira ticket",
       Schema({{"project", StringProperty("Project key, e.g. OPS")},
               {"summary", StringProperty("One-line summary")},
               {"environment", StringProperty("development, staging or production")}},
              {"project", "summary"})},
      Deploy("staging"),
      Deploy("production"),
  };
  return tools;
}

const McpTool* FindTool(const std::string& name) {
  for (const McpTool& tool : ToolRunnerTools()) {
    if (tool.name == name) return &tool;
  }
  return nullptr;
}

absl::Status CheckArguments(const McpTool& tool, const json& arguments) {
  for (const json& name : tool.input_schema["required"]) {
    auto found = arguments.find(name.get<std::string>());
    if (found == arguments.end() || !found->is_string()) {
      return absl::InvalidArgumentError(
          StrCat(tool.name, ": argument ", name.get<std::string>(), " (a string) is required"));
    }
  }
  return absl::OkStatus();
}

std::string RunTool(const McpTool& tool, const json& arguments) {
  if (tool.name == "search_docs") {
    return StrCat("3 handbook pages match ", common::Quote(Arg(arguments, "query")));
  }
  if (tool.name == "jira.create_ticket") {
    return StrCat("created ", Arg(arguments, "project"), "-1042: ", Arg(arguments, "summary"));
  }
  return StrCat("ran ", tool.name, ": ", Arg(arguments, "service"), " ", Arg(arguments, "version"));
}

}  // namespace spinel::examples
