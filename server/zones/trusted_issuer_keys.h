// TrustedIssuerKeyring: the signing keys of the user identity issuers the zones trust (zone file
// `trusted_issuers`, trust-zones/delegation_config.h), for the token exchange on the agent API.
//
// One common::JwksFile per JWK Set path, opened the first time a zone's issuer is used and kept
// for the server's life (a path no zone names any more costs one small entry). Every For() call
// refreshes the files it returns (a stat(2) each; re-read only when the file changed, the last
// good set staying in force when the new content is bad: common/jwks.h), so an operator rotates
// an issuer's keys by replacing its file, without a reload.
//
// An issuer whose file cannot be opened (never read successfully) is returned with null keys and
// its problem in `error`; the exchange refuses that issuer's tokens naming the problem. Zone
// loading (server/zones/zone_reload.h) already refuses zones whose files cannot be read, so this
// happens only when a file disappears or breaks after the zone was loaded.
//
// Thread-safe: one mutex guards the map; JwksFile is itself thread-safe and never removed.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "common/jwks.h"
#include "common/mutex.h"
#include "common/token_exchange.h"
#include "trust-zones/zone.h"

namespace spinel::server {

struct IssuerKeys {
  common::TrustedIssuerKeys keys;  // keys.keys is null when the file could not be read
  absl::Status error;              // why, naming the file
};

class TrustedIssuerKeyring {
 public:
  // The trusted issuers of `zone`, in file order, each with its current keys.
  std::vector<IssuerKeys> For(const zones::Zone& zone);

 private:
  // The file of `path`, opened on first use and refreshed; the error when it cannot be read.
  absl::StatusOr<common::JwksFile*> File(const std::string& path);

  common::Mutex mutex_;
  std::map<std::string, std::unique_ptr<common::JwksFile>> files_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace spinel::server
