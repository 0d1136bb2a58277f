// Strict reading of YAML configuration (server and agent configs, zone files). Every problem is
// reported as "<file>:<line>:<column>: <key path>: <problem>" so operators can go straight to
// it: syntax errors, wrong types, bad values, missing required keys and unknown keys.
//
//   YamlErrors errors("server.yaml");
//   auto root = LoadYamlFile("server.yaml", &errors);          // or LoadYamlString
//   YamlMap map(root, "", &errors);
//   std::string td = map.RequiredString("trust_domain");
//   auto ttl = map.Duration("ca_ttl");                          // optional
//   map.RejectUnknownKeys();
//   if (!errors.ok()) return errors.status();                   // the first problem found
//
// Accessors record each key as known; RejectUnknownKeys() then reports any other key. After
// the first error, later errors are ignored (the first one is the most useful) and accessors
// return empty values. Not thread-safe; one reader per load.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/status/status.h"

namespace spinel::common {

class YamlErrors {
 public:
  explicit YamlErrors(std::string file) : file_(std::move(file)) {}
  // Records a problem at `at`'s position (or the file when `at` has no position).
  void Add(const YAML::Node& at, std::string_view key_path, std::string_view problem);
  void AddAtMark(const YAML::Mark& mark, std::string_view key_path, std::string_view problem);
  bool ok() const { return status_.ok(); }
  // InvalidArgument carrying the first problem, or OK.
  const absl::Status& status() const { return status_; }
  const std::string& file() const { return file_; }

 private:
  std::string file_;
  absl::Status status_;
};

// Parses YAML text; a syntax error is recorded in `errors` and a null node returned.
YAML::Node LoadYamlString(std::string_view text, YamlErrors* errors);
// Reads and parses a file; unreadable files are recorded in `errors`.
YAML::Node LoadYamlFile(const std::string& path, YamlErrors* errors);

class YamlMap {
 public:
  // `node` must be a map or null (an absent section reads as empty). `key_path` prefixes the
  // keys in messages ("" at the top, "datastore" for a nested map).
  YamlMap(YAML::Node node, std::string key_path, YamlErrors* errors);

  bool Has(std::string_view key) const;
  std::optional<std::string> String(std::string_view key);
  std::string RequiredString(std::string_view key);
  std::optional<int64_t> Int(std::string_view key, int64_t min, int64_t max);
  std::optional<bool> Bool(std::string_view key);
  // A duration such as "90s" or "1h30m" (common/duration.h); must be > 0 unless allow_zero.
  std::optional<std::chrono::milliseconds> Duration(std::string_view key, bool allow_zero = false);
  // A sequence of scalars; absent -> empty.
  std::vector<std::string> StringList(std::string_view key);
  // A nested map; absent -> an empty map.
  YamlMap Map(std::string_view key);
  // A sequence of maps; absent -> empty.
  std::vector<YamlMap> MapList(std::string_view key);
  // A map of scalar -> scalar (e.g. conditions); absent -> empty. Keys keep file order.
  std::vector<std::pair<std::string, std::string>> StringMap(std::string_view key);

  // Records a validation problem about `key` at that key's position.
  void Error(std::string_view key, std::string_view problem);
  // Records every key that no accessor asked for.
  void RejectUnknownKeys();

  const std::string& key_path() const { return key_path_; }
  // The path naming `key` of this map in messages: "key" at the top, else "<key_path>.key".
  std::string PathOf(std::string_view key) const;
  YamlErrors* errors() const { return errors_; }

 private:
  YAML::Node Lookup(std::string_view key);
  YAML::Mark MarkOf(std::string_view key) const;

  YAML::Node node_;
  std::string key_path_;
  YamlErrors* errors_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace spinel::common
