#include "common/yaml_reader.h"

#include <fstream>
#include <sstream>

#include "common/duration.h"
#include "common/strings.h"

namespace spinel::common {

void YamlErrors::AddAtMark(const YAML::Mark& mark, std::string_view key_path,
                           std::string_view problem) {
  if (!status_.ok()) return;
  std::string where = file_;
  if (!mark.is_null()) StrAppend(&where, ":", mark.line + 1, ":", mark.column + 1);
  std::string message = key_path.empty() ? StrCat(where, ": ", problem)
                                         : StrCat(where, ": ", key_path, ": ", problem);
  status_ = absl::InvalidArgumentError(message);
}

void YamlErrors::Add(const YAML::Node& at, std::string_view key_path, std::string_view problem) {
  AddAtMark(at.IsDefined() ? at.Mark() : YAML::Mark::null_mark(), key_path, problem);
}

// yaml-cpp's message can carry a byte of the input (e.g. "unknown escape character: <byte>"):
// non-printable bytes are shown as \xNN so errors stay printable ASCII.
static std::string PrintableMessage(std::string_view message) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : message) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

YAML::Node LoadYamlString(std::string_view text, YamlErrors* errors) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    errors->AddAtMark(e.mark, "", StrCat("YAML syntax error: ", PrintableMessage(e.msg)));
    return YAML::Node();
  }
}

YAML::Node LoadYamlFile(const std::string& path, YamlErrors* errors) {
  std::ifstream in(path);
  if (!in) {
    errors->AddAtMark(YAML::Mark::null_mark(), "", "cannot read file");
    return YAML::Node();
  }
  std::stringstream text;
  text << in.rdbuf();
  return LoadYamlString(text.str(), errors);
}

YamlMap::YamlMap(YAML::Node node, std::string key_path, YamlErrors* errors)
    : node_(std::move(node)), key_path_(std::move(key_path)), errors_(errors) {
  if (node_.IsDefined() && !node_.IsNull() && !node_.IsMap()) {
    errors_->Add(node_, key_path_, "expected a mapping of keys to values");
    node_ = YAML::Node();
    return;
  }
  if (!node_.IsMap()) return;
  std::set<std::string, std::less<>> seen;
  for (const auto& kv : node_) {
    if (kv.first.IsScalar() && !seen.insert(kv.first.Scalar()).second) {
      errors_->Add(kv.first, PathOf(kv.first.Scalar()), "duplicate key");
      return;
    }
  }
}

std::string YamlMap::PathOf(std::string_view key) const {
  return key_path_.empty() ? std::string(key) : StrCat(key_path_, ".", key);
}

YAML::Mark YamlMap::MarkOf(std::string_view key) const {
  if (!node_.IsMap()) return node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark();
  for (const auto& kv : node_) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.first.Mark();
  }
  return node_.Mark();
}

bool YamlMap::Has(std::string_view key) const {
  if (!node_.IsMap()) return false;
  for (const auto& kv : node_) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return true;
  }
  return false;
}

YAML::Node YamlMap::Lookup(std::string_view key) {
  known_.emplace(key);
  if (!errors_->ok() || !node_.IsMap()) return YAML::Node();
  for (const auto& kv : node_) {
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.second;
  }
  return YAML::Node();
}

void YamlMap::Error(std::string_view key, std::string_view problem) {
  errors_->AddAtMark(MarkOf(key), PathOf(key), problem);
}

std::optional<std::string> YamlMap::String(std::string_view key) {
  YAML::Node value = Lookup(key);
  if (!value.IsDefined() || value.IsNull()) return std::nullopt;
  if (!value.IsScalar()) {
    Error(key, "expected a single value, not a list or mapping");
    return std::nullopt;
  }
  return value.Scalar();
}

std::string YamlMap::RequiredString(std::string_view key) {
  std::optional<std::string> value = String(key);
  if (!value && errors_->ok()) Error(key, "missing required key");
  if (value && value->empty()) Error(key, "must not be empty");
  return value.value_or("");
}

std::optional<int64_t> YamlMap::Int(std::string_view key, int64_t min, int64_t max) {
  std::optional<std::string> text = String(key);
  if (!text) return std::nullopt;
  int64_t value = 0;
  size_t used = 0;
  try {
    value = std::stoll(*text, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text->size()) {
    Error(key, StrCat("expected a whole number, got ", Quote(*text)));
    return std::nullopt;
  }
  if (value < min || value > max) {
    Error(key, StrCat("must be between ", min, " and ", max, ", got ", value));
    return std::nullopt;
  }
  return value;
}

std::optional<bool> YamlMap::Bool(std::string_view key) {
  std::optional<std::string> text = String(key);
  if (!text) return std::nullopt;
  if (*text == "true") return true;
  if (*text == "false") return false;
  Error(key, StrCat("expected true or false, got ", Quote(*text)));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> YamlMap::Duration(std::string_view key, bool allow_zero) {
  std::optional<std::string> text = String(key);
  if (!text) return std::nullopt;
  absl::StatusOr<std::chrono::milliseconds> d = ParseDuration(*text);
  if (!d.ok()) {
    Error(key, std::string(d.status().message()));
    return std::nullopt;
  }
  if (!allow_zero && d->count() == 0) {
    Error(key, "must be greater than zero");
    return std::nullopt;
  }
  return *d;
}

std::vector<std::string> YamlMap::StringList(std::string_view key) {
  std::vector<std::string> out;
  YAML::Node value = Lookup(key);
  if (!value.IsDefined() || value.IsNull()) return out;
  if (!value.IsSequence()) {
    Error(key, "expected a list");
    return out;
  }
  for (const auto& item : value) {
    if (!item.IsScalar()) {
      errors_->Add(item, PathOf(key), "expected a list of single values");
      return {};
    }
    out.push_back(item.Scalar());
  }
  return out;
}

YamlMap YamlMap::Map(std::string_view key) { return YamlMap(Lookup(key), PathOf(key), errors_); }

std::vector<YamlMap> YamlMap::MapList(std::string_view key) {
  std::vector<YamlMap> out;
  YAML::Node value = Lookup(key);
  if (!value.IsDefined() || value.IsNull()) return out;
  if (!value.IsSequence()) {
    Error(key, "expected a list");
    return out;
  }
  for (size_t i = 0; i < value.size(); ++i) {
    out.emplace_back(value[i], StrCat(PathOf(key), "[", i, "]"), errors_);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> YamlMap::StringMap(std::string_view key) {
  std::vector<std::pair<std::string, std::string>> out;
  YAML::Node value = Lookup(key);
  if (!value.IsDefined() || value.IsNull()) return out;
  if (!value.IsMap()) {
    Error(key, "expected a mapping");
    return out;
  }
  for (const auto& kv : value) {
    if (!kv.first.IsScalar() || !kv.second.IsScalar()) {
      errors_->Add(kv.first, PathOf(key), "expected single values on both sides");
      return {};
    }
    out.emplace_back(kv.first.Scalar(), kv.second.Scalar());
  }
  return out;
}

void YamlMap::RejectUnknownKeys() {
  if (!node_.IsMap()) return;
  for (const auto& kv : node_) {
    std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (known_.count(key) == 0) {
      errors_->Add(kv.first, PathOf(key), "unknown key");
      return;
    }
  }
}

}  // namespace spinel::common
