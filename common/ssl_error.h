// Turns OpenSSL failures into absl::Status values carrying the drained OpenSSL error queue.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace spinel::common {

// Drains the calling thread's OpenSSL error queue into one human-readable string
// ("lib:reason; lib:reason"). Returns "" when the queue is empty.
std::string DrainSslErrors();

// Returns a status with `code` whose message is `what` followed by the drained OpenSSL error
// queue, e.g. "signing certificate: EVP_DigestSign failed [error:...]". Always drains the queue.
absl::Status SslError(std::string_view what, absl::StatusCode code = absl::StatusCode::kInternal);

// Discards whatever is on the OpenSSL error queue (used after an expected failure, such as the
// PEM_R_NO_START_LINE that marks the end of a PEM stream).
void ClearSslErrors();

}  // namespace spinel::common
