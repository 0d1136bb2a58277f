#include "common/jwks.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "common/file_util.h"
#include "common/json_util.h"
#include "common/jwk.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

absl::Status EntryError(size_t index, absl::string_view problem) {
  return absl::InvalidArgumentError(StrCat("JWK Set keys[", index, "]: ", problem));
}

// The string member `name` of `jwk`: nullopt when absent, an error when not a string.
absl::StatusOr<std::optional<std::string>> OptionalString(const json& jwk, size_t index,
                                                          std::string_view name) {
  const json* value = FindMember(jwk, name);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) {
    return EntryError(index, StrCat("\"", name, "\" is ", JsonTypeName(*value), ", not a string"));
  }
  return std::optional<std::string>(value->get<std::string>());
}

// One entry: a key, nullopt when the entry is skipped, or an error.
absl::StatusOr<std::optional<JwksKey>> ParseEntry(const json& jwk, size_t index) {
  if (!jwk.is_object()) return EntryError(index, "not an object");
  SPINEL_ASSIGN_OR_RETURN(std::optional<std::string> kty, OptionalString(jwk, index, "kty"));
  if (!kty) return EntryError(index, "missing \"kty\"");
  SPINEL_ASSIGN_OR_RETURN(std::optional<std::string> use, OptionalString(jwk, index, "use"));
  SPINEL_ASSIGN_OR_RETURN(std::optional<std::string> alg, OptionalString(jwk, index, "alg"));
  SPINEL_ASSIGN_OR_RETURN(std::optional<std::string> kid, OptionalString(jwk, index, "kid"));
  if ((use && *use != "sig") || !IsSupportedJwkKty(*kty)) return std::optional<JwksKey>();
  std::optional<JwsAlgorithm> algorithm;
  if (alg) {
    algorithm = JwsAlgorithmFromName(*alg);
    if (!algorithm) return std::optional<JwksKey>();
  }
  absl::StatusOr<PublicKey> key = PublicKeyFromJwk(jwk);
  if (!key.ok()) return EntryError(index, key.status().message());
  if (algorithm) {
    absl::Status fits = CheckJwsKeyType(*algorithm, key->type());
    if (!fits.ok()) return EntryError(index, fits.message());
  }
  return std::optional<JwksKey>(JwksKey{kid.value_or(""), *std::move(key), algorithm});
}

int64_t Nanos(const timespec& t) { return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec; }

}  // namespace

absl::StatusOr<JwkSet> JwkSet::Parse(std::string_view text) {
  SPINEL_ASSIGN_OR_RETURN(json doc, ParseJson(text, "JWK Set", kMaxJwksBytes));
  const json* keys = FindMember(doc, "keys");
  if (!doc.is_object() || keys == nullptr || !keys->is_array()) {
    return absl::InvalidArgumentError("JWK Set: expected an object with a \"keys\" array");
  }
  std::vector<JwksKey> out;
  for (size_t i = 0; i < keys->size(); ++i) {
    SPINEL_ASSIGN_OR_RETURN(std::optional<JwksKey> key, ParseEntry((*keys)[i], i));
    if (!key) continue;
    for (const JwksKey& other : out) {
      if (!key->kid.empty() && other.kid == key->kid) {
        return EntryError(i, StrCat("kid ", Quote(key->kid), " is used twice"));
      }
    }
    out.push_back(*std::move(key));
  }
  if (out.empty()) {
    return absl::InvalidArgumentError(
        "JWK Set: no usable signing key (EC or RSA, use \"sig\", an allowed alg)");
  }
  return JwkSet(std::move(out));
}

absl::StatusOr<PublicKey> JwkSet::Find(std::optional<std::string_view> kid,
                                       JwsAlgorithm alg) const {
  const JwksKey* found = nullptr;
  if (kid) {
    for (const JwksKey& key : keys_) {
      if (key.kid == *kid) found = &key;
    }
    if (found == nullptr) {
      return absl::NotFoundError(StrCat("the issuer has no key with kid ", Quote(*kid)));
    }
  } else if (keys_.size() == 1) {
    found = &keys_.front();
  } else {
    return absl::NotFoundError("the token names no kid and the issuer has several keys");
  }
  if (found->algorithm && *found->algorithm != alg) {
    return absl::InvalidArgumentError(StrCat("the key is for ", JwsAlgorithmName(*found->algorithm),
                                             ", not ", JwsAlgorithmName(alg)));
  }
  SPINEL_RETURN_IF_ERROR(CheckJwsKeyType(alg, found->key.type()));
  return found->key;
}

absl::StatusOr<std::unique_ptr<JwksFile>> JwksFile::Open(std::string path) {
  std::unique_ptr<JwksFile> file(new JwksFile(std::move(path)));
  MutexLock lock(file->mu_);
  SPINEL_RETURN_IF_ERROR(file->RefreshLocked());
  return file;
}

absl::StatusOr<JwksFile::FileStatus> JwksFile::Stat() const {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    return absl::NotFoundError(StrCat("cannot stat: ", std::strerror(errno)));
  }
  return FileStatus{st.st_ino, st.st_size, Nanos(st.st_mtim), Nanos(st.st_ctim)};
}

absl::Status JwksFile::RefreshLocked() {
  absl::StatusOr<FileStatus> status = Stat();
  if (status.ok() && status_ && *status == *status_ && current_ != nullptr) return last_error_;
  absl::StatusOr<std::string> text = status.ok() ? ReadFile(path_) : status.status();
  absl::StatusOr<std::string> hash = text.ok() ? Sha256Hex(*text) : text.status();
  if (!hash.ok()) {
    last_error_ = absl::Status(hash.status().code(),
                               StrCat("JWKS file ", path_, ": ", hash.status().message()));
    return last_error_;
  }
  status_ = *status;
  if (*hash == content_hash_ && current_ != nullptr) return last_error_ = absl::OkStatus();
  absl::StatusOr<JwkSet> set = JwkSet::Parse(*text);
  if (!set.ok()) {
    last_error_ = absl::InvalidArgumentError(StrCat(path_, ": ", set.status().message()));
    return last_error_;
  }
  current_ = std::make_shared<const JwkSet>(*std::move(set));
  content_hash_ = *std::move(hash);
  ++generation_;
  return last_error_ = absl::OkStatus();
}

absl::Status JwksFile::Refresh() {
  MutexLock lock(mu_);
  return RefreshLocked();
}

std::shared_ptr<const JwkSet> JwksFile::Current() const {
  MutexLock lock(mu_);
  return current_;
}

absl::Status JwksFile::last_error() const {
  MutexLock lock(mu_);
  return last_error_;
}

uint64_t JwksFile::generation() const {
  MutexLock lock(mu_);
  return generation_;
}

}  // namespace spinel::common
