#include "common/json_util.h"

#include <set>
#include <vector>

#include "common/strings.h"

namespace spinel::common {

using nlohmann::json;

absl::StatusOr<json> ParseJson(std::string_view text, std::string_view what, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(
        StrCat(what, ": ", text.size(), " bytes exceeds the limit of ", max_bytes));
  }
  // One set of member names per object being parsed, innermost last.
  std::vector<std::set<std::string>> open_objects;
  std::string duplicate;
  bool has_duplicate = false;
  bool too_deep = false;
  json::parser_callback_t callback = [&](int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::array_start:
        if (depth >= kMaxJsonDepth) too_deep = true;
        return !too_deep;  // nothing deeper is kept
      case json::parse_event_t::object_start:
        if (depth >= kMaxJsonDepth) too_deep = true;
        open_objects.emplace_back();
        return !too_deep;
      case json::parse_event_t::object_end:
        if (!open_objects.empty()) open_objects.pop_back();
        break;
      case json::parse_event_t::key:
        if (!open_objects.empty() && parsed.is_string() &&
            !open_objects.back().insert(parsed.get_ref<const std::string&>()).second &&
            !has_duplicate) {
          has_duplicate = true;
          duplicate = parsed.get_ref<const std::string&>();
        }
        break;
      default:
        break;
    }
    return true;
  };
  json value = json::parse(text.begin(), text.end(), callback, /*allow_exceptions=*/false);
  if (value.is_discarded()) return absl::InvalidArgumentError(StrCat(what, ": malformed JSON"));
  if (too_deep) {
    return absl::InvalidArgumentError(
        StrCat(what, ": nested deeper than ", kMaxJsonDepth, " levels"));
  }
  if (has_duplicate) {
    return absl::InvalidArgumentError(StrCat(what, ": duplicate member ", Quote(duplicate)));
  }
  return value;
}

absl::StatusOr<std::string> DumpJson(const json& value) {
  try {
    return value.dump();
  } catch (const json::exception&) {
    return absl::InvalidArgumentError("JSON value holds a string that is not valid UTF-8");
  }
}

const json* FindMember(const json& obj, std::string_view name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  return it == obj.end() ? nullptr : &*it;
}

absl::StatusOr<std::string_view> GetStringMember(const json& obj, std::string_view name,
                                                 std::string_view what) {
  const json* member = FindMember(obj, name);
  if (member == nullptr) {
    return absl::InvalidArgumentError(StrCat(what, ": missing \"", name, "\""));
  }
  if (!member->is_string()) {
    return absl::InvalidArgumentError(
        StrCat(what, ": \"", name, "\" must be a string, not ", JsonTypeName(*member)));
  }
  return std::string_view(member->get_ref<const std::string&>());
}

std::string_view JsonTypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "number";
    default:
      return "other";
  }
}

}  // namespace spinel::common
