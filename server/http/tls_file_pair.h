// TlsFilePair: a TLS certificate chain and private key that follow their PEM files on disk,
// for the server's HTTPS listeners (server/http/https_server.h, federation bundle endpoints).
//
// The files are re-checked at every handshake (CertCallback): when the inode, size or mtime of
// either file changed they are re-read, and the new pair is used from that handshake on if the
// key matches the certificate. A pair that does not load or match (e.g. between the renames of
// key and certificate) keeps the previous one in service and is retried once either file
// changes again. Thread-safe.
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/certificate.h"
#include "common/keys.h"
#include "common/mutex.h"

namespace spinel::server {

// What tells a replaced file from the one read before.
struct TlsFileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = -1;
  int64_t mtime_ns = 0;
  bool operator==(const TlsFileStamp&) const = default;
};

class TlsFilePair {
 public:
  // Reads the pair once: the read error, or FailedPrecondition when the key does not match.
  static absl::StatusOr<std::unique_ptr<TlsFilePair>> Load(std::string cert_path,
                                                           std::string key_path);

  // SSL_CTX_set_cert_cb callback (`arg` is the TlsFilePair): puts the current pair on the
  // connection. Returns 1 on success, 0 to fail the handshake.
  static int CertCallback(SSL* ssl, void* arg);

  const std::string& cert_path() const { return cert_path_; }

 private:
  struct Pair {
    std::vector<common::Certificate> chain;
    common::PrivateKey key;
  };
  using Stamps = std::pair<TlsFileStamp, TlsFileStamp>;  // certificate, key

  TlsFilePair(std::string cert_path, std::string key_path)
      : cert_path_(std::move(cert_path)), key_path_(std::move(key_path)) {}

  static TlsFileStamp StampOf(const std::string& path);
  Stamps StampFiles() const { return {StampOf(cert_path_), StampOf(key_path_)}; }
  absl::StatusOr<std::shared_ptr<const Pair>> ReadPair() const;
  // The pair to serve, re-read first when either file changed since the last attempt.
  std::shared_ptr<const Pair> Current();

  const std::string cert_path_;
  const std::string key_path_;
  common::Mutex mutex_;
  std::shared_ptr<const Pair> pair_ ABSL_GUARDED_BY(mutex_);  // never null after Load
  Stamps seen_ ABSL_GUARDED_BY(mutex_);                       // stamps of the last read attempt
};

}  // namespace spinel::server
