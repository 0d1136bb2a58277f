// The tools of the example tool runner, as MCP tools (name, description, JSON Schema of the
// arguments), and their (simulated) execution. Each is guarded as resource
// "tool:tool-runner/<name>" (examples/tool_guard.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "examples/mcp_server.h"

namespace spinel::examples {

const std::vector<McpTool>& ToolRunnerTools();

// The tool named `name`, or nullptr.
const McpTool* FindTool(const std::string& name);

// InvalidArgument naming a required argument that is missing or not a string.
absl::Status CheckArguments(const McpTool& tool, const nlohmann::json& arguments);

// Runs the tool (simulated: says what it did). The text of the result.
std::string RunTool(const McpTool& tool, const nlohmann::json& arguments);

}  // namespace spinel::examples
