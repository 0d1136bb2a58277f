// Values crossing the boundary between the shared SQL store (sql_store.h) and the two engine
// adapters (sqlite_session.h, postgres_session.h): bound parameters (SqlParams) and
// materialized results (SqlRows, read row by row through SqlRow).
//
// A result value is what the engine gave: SQLite hands integers as integers and text as text,
// libpq hands everything as text. The SqlRow accessors convert, so table code reads a column
// the same way on both engines (columns from 0):
//   Text(c)         "" for NULL; an integer as its decimal text
//   Int(c)          0 for NULL; text parsed as a decimal integer
//   Bool(c)         an integer != 0, or the text "t" / "true" (PostgreSQL's boolean output)
//   IsNull(c), OptionalInt(c)
//
// Plain values: no threads, no errors. A SqlRow borrows its SqlRows, which must outlive it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace spinel::server {

// One bound parameter or result value. `bool` is only ever a parameter: SQLite binds it as
// 0/1, PostgreSQL sends "true"/"false".
using SqlValue = std::variant<std::monostate, int64_t, std::string, bool>;

// Bound parameters: $1 is the first added.
class SqlParams {
 public:
  SqlParams& Text(std::string_view value);
  SqlParams& Int(int64_t value);
  SqlParams& Bool(bool value);
  SqlParams& Null();
  SqlParams& OptionalInt(const std::optional<int64_t>& value);
  // Appends every parameter of `other` (e.g. a WHERE clause's, see SqlConditions).
  SqlParams& Append(const SqlParams& other);

  int size() const { return static_cast<int>(values_.size()); }
  const std::vector<SqlValue>& values() const { return values_; }

 private:
  std::vector<SqlValue> values_;
};

class SqlRow {
 public:
  SqlRow(const SqlValue* values, int columns) : values_(values), columns_(columns) {}
  std::string Text(int column) const;
  int64_t Int(int column) const;
  bool Bool(int column) const;
  bool IsNull(int column) const;
  std::optional<int64_t> OptionalInt(int column) const;
  int columns() const { return columns_; }

 private:
  const SqlValue* values_;
  int columns_;
};

// The rows of one statement, and how many rows it changed (INSERT/UPDATE/DELETE).
class SqlRows {
 public:
  SqlRows(int columns, std::vector<SqlValue> values, int64_t affected)
      : columns_(columns), values_(std::move(values)), affected_(affected) {}

  int size() const { return columns_ == 0 ? 0 : static_cast<int>(values_.size()) / columns_; }
  bool empty() const { return size() == 0; }
  SqlRow operator[](int row) const { return SqlRow(values_.data() + row * columns_, columns_); }
  int64_t affected() const { return affected_; }

 private:
  int columns_;
  std::vector<SqlValue> values_;  // row after row
  int64_t affected_;
};

// A WHERE clause from constant conditions that each end with their parameter, e.g.
//   SqlConditions where;
//   if (filter.zone) where.AddText("zone = ", *filter.zone);   // " WHERE zone = $1"
// Conditions must be constant SQL; values only ever reach SQL as bound parameters. A caller's
// further parameters are numbered from Count() + 1 (NextParam()).
class SqlConditions {
 public:
  void AddText(std::string_view condition, std::string_view value);
  void AddInt(std::string_view condition, int64_t value);
  void AddBool(std::string_view condition, bool value);
  std::string Sql() const;
  const SqlParams& params() const { return params_; }
  int Count() const { return params_.size(); }
  // "$<Count() + 1>": the placeholder of the next parameter a caller appends.
  std::string NextParam() const;

 private:
  void Add(std::string_view condition);

  std::vector<std::string> conditions_;
  SqlParams params_;
};

}  // namespace spinel::server
