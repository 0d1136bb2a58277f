#include "server/datastore/driver_support.h"

#include "common/strings.h"

namespace spinel::server {

std::string SqlExcerpt(std::string_view sql) {
  constexpr size_t kShown = 60;
  if (sql.empty()) return "";
  return common::StrCat(" in \"", sql.substr(0, kShown), sql.size() > kShown ? "...\"" : "\"");
}

}  // namespace spinel::server
