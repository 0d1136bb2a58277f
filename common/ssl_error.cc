#include "common/ssl_error.h"

#include <openssl/err.h>

#include "common/strings.h"

namespace spinel::common {

std::string DrainSslErrors() {
  std::string out;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

absl::Status SslError(std::string_view what, absl::StatusCode code) {
  std::string queue = DrainSslErrors();
  if (queue.empty()) return absl::Status(code, std::string(what));
  return absl::Status(code, StrCat(what, " [", queue, "]"));
}

void ClearSslErrors() { ERR_clear_error(); }

}  // namespace spinel::common
