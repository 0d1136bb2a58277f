// CsrSigner: where workload CSRs are signed (the server's agent API, via ServerClient).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/certificate.h"

namespace spinel::agent {

struct SignedSvid {
  std::string entry_id;
  absl::Status status;                     // why it was refused, when it was
  std::vector<common::Certificate> chain;  // leaf first
};

class CsrSigner {
 public:
  virtual ~CsrSigner() = default;
  // Signs (entry id, CSR DER) pairs; each result says whether that one was signed. A non-OK
  // return means the whole call failed (server unreachable).
  virtual absl::StatusOr<std::vector<SignedSvid>> SignX509Svids(
      const std::vector<std::pair<std::string, std::string>>& csrs) = 0;
};

}  // namespace spinel::agent
