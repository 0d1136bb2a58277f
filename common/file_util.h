// Small, careful file helpers for state that must survive crashes: atomic replace (write to a
// temp file, fsync, rename, fsync the directory), private files (mode 0600) and directories
// (0700). Errors name the path and the errno text.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/secret_data.h"

namespace spinel::common {

// Replaces `path` atomically with `contents`, created with `mode` (e.g. 0600). After it returns
// OK the new contents survive a crash or kill -9.
absl::Status WriteFileAtomic(const std::string& path, std::string_view contents,
                             unsigned mode = 0600);
// The whole file; NotFound when it does not exist.
absl::StatusOr<std::string> ReadFile(const std::string& path);
// The whole file as secret bytes (a private key), read into the buffer SecretData then owns,
// with no other copy left behind; errors as ReadFile.
absl::StatusOr<SecretData> ReadSecretFile(const std::string& path);
// Creates `path` and missing parents with `mode` (e.g. 0700); OK when it already exists.
absl::Status MakeDirs(const std::string& path, unsigned mode = 0700);
bool FileExists(const std::string& path);

}  // namespace spinel::common
