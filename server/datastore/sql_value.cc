#include "server/datastore/sql_value.h"

#include <cstdlib>

#include "common/strings.h"

namespace spinel::server {

using common::StrAppend;
using common::StrCat;

// --- SqlParams ------------------------------------------------------------------------------

SqlParams& SqlParams::Text(std::string_view value) {
  values_.emplace_back(std::string(value));
  return *this;
}

SqlParams& SqlParams::Int(int64_t value) {
  values_.emplace_back(value);
  return *this;
}

SqlParams& SqlParams::Bool(bool value) {
  values_.emplace_back(value);
  return *this;
}

SqlParams& SqlParams::Null() {
  values_.emplace_back(std::monostate{});
  return *this;
}

SqlParams& SqlParams::OptionalInt(const std::optional<int64_t>& value) {
  return value.has_value() ? Int(*value) : Null();
}

SqlParams& SqlParams::Append(const SqlParams& other) {
  values_.insert(values_.end(), other.values_.begin(), other.values_.end());
  return *this;
}

// --- SqlRow ---------------------------------------------------------------------------------

std::string SqlRow::Text(int column) const {
  const SqlValue& v = values_[column];
  if (const auto* text = std::get_if<std::string>(&v)) return *text;
  if (const auto* number = std::get_if<int64_t>(&v)) return std::to_string(*number);
  if (const auto* flag = std::get_if<bool>(&v)) return *flag ? "true" : "false";
  return "";
}

int64_t SqlRow::Int(int column) const {
  const SqlValue& v = values_[column];
  if (const auto* number = std::get_if<int64_t>(&v)) return *number;
  if (const auto* text = std::get_if<std::string>(&v))
    return std::strtoll(text->c_str(), nullptr, 10);
  if (const auto* flag = std::get_if<bool>(&v)) return *flag ? 1 : 0;
  return 0;
}

bool SqlRow::Bool(int column) const {
  const SqlValue& v = values_[column];
  if (const auto* text = std::get_if<std::string>(&v)) return *text == "t" || *text == "true";
  return Int(column) != 0;
}

bool SqlRow::IsNull(int column) const {
  return std::holds_alternative<std::monostate>(values_[column]);
}

std::optional<int64_t> SqlRow::OptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return Int(column);
}

// --- SqlConditions --------------------------------------------------------------------------

void SqlConditions::Add(std::string_view condition) {
  conditions_.push_back(StrCat(condition, "$", params_.size()));
}

void SqlConditions::AddText(std::string_view condition, std::string_view value) {
  params_.Text(value);
  Add(condition);
}

void SqlConditions::AddInt(std::string_view condition, int64_t value) {
  params_.Int(value);
  Add(condition);
}

void SqlConditions::AddBool(std::string_view condition, bool value) {
  params_.Bool(value);
  Add(condition);
}

std::string SqlConditions::Sql() const {
  std::string sql;
  for (size_t i = 0; i < conditions_.size(); ++i) {
    StrAppend(&sql, i == 0 ? " WHERE " : " AND ", conditions_[i]);
  }
  return sql;
}

std::string SqlConditions::NextParam() const { return StrCat("$", params_.size() + 1); }

}  // namespace spinel::server
