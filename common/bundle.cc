#include "common/bundle.h"

#include <limits>

#include "common/base64.h"
#include "common/json_util.h"
#include "common/jwk.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

using nlohmann::json;

absl::Status EntryError(size_t index, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat("bundle keys[", index, "]: ", problem));
}

absl::StatusOr<std::optional<uint64_t>> ParseSequence(const json& jwks) {
  const json* value = FindMember(jwks, "spiffe_sequence");
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_unsigned()) {
    return absl::InvalidArgumentError(
        "bundle: \"spiffe_sequence\" must be a non-negative integer below 2^64");
  }
  return value->get<uint64_t>();
}

absl::StatusOr<std::optional<int64_t>> ParseRefreshHint(const json& jwks) {
  const json* value = FindMember(jwks, "spiffe_refresh_hint");
  if (value == nullptr) return std::nullopt;
  if (value->is_number_unsigned() &&
      value->get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return static_cast<int64_t>(value->get<uint64_t>());
  }
  if (value->is_number_integer() && !value->is_number_unsigned()) return value->get<int64_t>();
  return absl::InvalidArgumentError(
      "bundle: \"spiffe_refresh_hint\" must be an integer number of seconds (64-bit)");
}

// The first x5c certificate of an x509-svid JWK, or nullopt when x5c is absent or empty.
absl::StatusOr<std::optional<Certificate>> FirstX5c(const json& jwk, size_t index) {
  const json* x5c = FindMember(jwk, "x5c");
  if (x5c == nullptr) return std::nullopt;
  if (!x5c->is_array()) return EntryError(index, "\"x5c\" must be an array");
  if (x5c->empty()) return std::nullopt;
  const json& first = x5c->front();
  if (!first.is_string()) return EntryError(index, "\"x5c\" values must be strings");
  absl::StatusOr<std::string> der = Base64Decode(first.get_ref<const std::string&>());
  if (!der.ok()) return EntryError(index, StrCat("x5c[0]: ", der.status().message()));
  absl::StatusOr<Certificate> cert = Certificate::FromDer(*der);
  if (!cert.ok()) return EntryError(index, StrCat("x5c[0]: ", cert.status().message()));
  return std::optional<Certificate>(std::move(*cert));
}

absl::Status AddX509Authority(const json& jwk, size_t index, Bundle* bundle) {
  SPINEL_ASSIGN_OR_RETURN(std::optional<Certificate> cert, FirstX5c(jwk, index));
  if (!cert) return absl::OkStatus();  // nothing to trust: the entry is ignored
  absl::StatusOr<PublicKey> key = PublicKeyFromJwk(jwk);
  if (!key.ok()) return EntryError(index, StrCat(key.status().message()));
  absl::StatusOr<PublicKey> cert_key = cert->GetPublicKey();
  if (!cert_key.ok()) {
    return EntryError(index, StrCat("x5c[0] public key: ", cert_key.status().message()));
  }
  if (!key->Equals(*cert_key)) {
    return EntryError(index, "key members do not match the x5c certificate's key");
  }
  bundle->x509_authorities.push_back(std::move(*cert));
  return absl::OkStatus();
}

// Adds a jwt-svid or wit-svid key (`use`) to `keys`; its kid must be new to the whole bundle.
absl::Status AddKeyedAuthority(const json& jwk, size_t index, std::string_view use, Bundle* bundle,
                               std::map<std::string, PublicKey>* keys) {
  const json* kid = FindMember(jwk, "kid");
  if (kid == nullptr || !kid->is_string() || kid->get_ref<const std::string&>().empty()) {
    return EntryError(index, StrCat("a ", use, " key needs a non-empty string \"kid\""));
  }
  absl::StatusOr<PublicKey> key = PublicKeyFromJwk(jwk);
  if (!key.ok()) return EntryError(index, StrCat(key.status().message()));
  const std::string& id = kid->get_ref<const std::string&>();
  if (bundle->jwt_authorities.count(id) > 0 || bundle->wit_authorities.count(id) > 0) {
    return EntryError(index, StrCat("duplicate kid ", Quote(id)));
  }
  keys->emplace(id, std::move(*key));
  return absl::OkStatus();
}

// Adds one entry of "keys", or skips it when its use or kty is not ours (checklist D6, D7).
absl::Status AddJwk(const json& jwk, size_t index, Bundle* bundle) {
  if (!jwk.is_object()) {
    return EntryError(index, StrCat("must be an object, not ", JsonTypeName(jwk)));
  }
  const json* kty = FindMember(jwk, "kty");
  if (kty == nullptr || !kty->is_string()) {
    return EntryError(index, "\"kty\" must be present and a string");
  }
  const json* use = FindMember(jwk, "use");
  if (use == nullptr) return absl::OkStatus();
  if (!use->is_string()) return EntryError(index, "\"use\" must be a string");
  if (!IsSupportedJwkKty(kty->get_ref<const std::string&>())) return absl::OkStatus();
  if (*use == kUseX509Svid) return AddX509Authority(jwk, index, bundle);
  if (*use == kUseJwtSvid) {
    return AddKeyedAuthority(jwk, index, kUseJwtSvid, bundle, &bundle->jwt_authorities);
  }
  if (*use == kUseWitSvid) {
    return AddKeyedAuthority(jwk, index, kUseWitSvid, bundle, &bundle->wit_authorities);
  }
  return absl::OkStatus();
}

absl::StatusOr<json> JwkWithUse(const PublicKey& key, std::string_view use) {
  SPINEL_ASSIGN_OR_RETURN(json jwk, PublicKeyToJwk(key));
  jwk["use"] = std::string(use);
  return jwk;
}

// The JWKs of `authorities` (by kid) with "use": `use`.
absl::StatusOr<json> KeyedJwks(const std::map<std::string, PublicKey>& authorities,
                               std::string_view use) {
  json keys = json::array();
  for (const auto& [kid, key] : authorities) {
    SPINEL_ASSIGN_OR_RETURN(json jwk, JwkWithUse(key, use));
    jwk["kid"] = kid;
    keys.push_back(std::move(jwk));
  }
  return keys;
}

bool SameKeys(const std::map<std::string, PublicKey>& a,
              const std::map<std::string, PublicKey>& b) {
  if (a.size() != b.size()) return false;
  for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
    if (i->first != j->first || !i->second.Equals(j->second)) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<Bundle> Bundle::Parse(const TrustDomain& trust_domain, std::string_view json) {
  SPINEL_ASSIGN_OR_RETURN(nlohmann::json doc, ParseJson(json, "bundle", kMaxBundleJsonBytes));
  return FromJwks(trust_domain, doc);
}

absl::StatusOr<Bundle> Bundle::FromJwks(const TrustDomain& trust_domain, const json& jwks) {
  if (trust_domain.empty()) return absl::InvalidArgumentError("bundle: no trust domain");
  if (!jwks.is_object()) {
    return absl::InvalidArgumentError(
        StrCat("bundle: must be a JSON object, not ", JsonTypeName(jwks)));
  }
  const json* keys = FindMember(jwks, "keys");
  if (keys == nullptr) return absl::InvalidArgumentError("bundle: missing \"keys\"");
  if (!keys->is_array()) {
    return absl::InvalidArgumentError(
        StrCat("bundle: \"keys\" must be an array, not ", JsonTypeName(*keys)));
  }
  Bundle bundle;
  bundle.trust_domain = trust_domain;
  SPINEL_ASSIGN_OR_RETURN(bundle.sequence, ParseSequence(jwks));
  SPINEL_ASSIGN_OR_RETURN(bundle.refresh_hint_seconds, ParseRefreshHint(jwks));
  for (size_t i = 0; i < keys->size(); ++i) {
    SPINEL_RETURN_IF_ERROR(AddJwk((*keys)[i], i, &bundle));
  }
  return bundle;
}

absl::StatusOr<json> Bundle::ToJwks() const {
  json keys = json::array();
  for (const Certificate& cert : x509_authorities) {
    SPINEL_ASSIGN_OR_RETURN(PublicKey key, cert.GetPublicKey());
    SPINEL_ASSIGN_OR_RETURN(json jwk, JwkWithUse(key, kUseX509Svid));
    jwk["x5c"] = json::array({Base64Encode(cert.ToDer())});
    keys.push_back(std::move(jwk));
  }
  SPINEL_ASSIGN_OR_RETURN(json jwt_keys, KeyedJwks(jwt_authorities, kUseJwtSvid));
  for (json& jwk : jwt_keys) keys.push_back(std::move(jwk));
  SPINEL_ASSIGN_OR_RETURN(json wit_keys, KeyedJwks(wit_authorities, kUseWitSvid));
  for (json& jwk : wit_keys) keys.push_back(std::move(jwk));
  json doc = {{"keys", std::move(keys)}};
  if (sequence) doc["spiffe_sequence"] = *sequence;
  if (refresh_hint_seconds) doc["spiffe_refresh_hint"] = *refresh_hint_seconds;
  return doc;
}

absl::StatusOr<std::string> Bundle::ToJson() const {
  SPINEL_ASSIGN_OR_RETURN(json doc, ToJwks());
  return DumpJson(doc);
}

absl::StatusOr<std::string> Bundle::JwtAuthoritiesJson() const {
  SPINEL_ASSIGN_OR_RETURN(json keys, KeyedJwks(jwt_authorities, kUseJwtSvid));
  return DumpJson(json{{"keys", std::move(keys)}});
}

absl::StatusOr<std::string> Bundle::WitAuthoritiesJson() const {
  SPINEL_ASSIGN_OR_RETURN(json keys, KeyedJwks(wit_authorities, kUseWitSvid));
  return DumpJson(json{{"keys", std::move(keys)}});
}

const PublicKey* Bundle::FindJwtAuthority(std::string_view kid) const {
  auto it = jwt_authorities.find(std::string(kid));
  return it == jwt_authorities.end() ? nullptr : &it->second;
}

const PublicKey* Bundle::FindWitAuthority(std::string_view kid) const {
  auto it = wit_authorities.find(std::string(kid));
  return it == wit_authorities.end() ? nullptr : &it->second;
}

bool Bundle::Equals(const Bundle& other) const {
  if (trust_domain != other.trust_domain || sequence != other.sequence ||
      refresh_hint_seconds != other.refresh_hint_seconds ||
      x509_authorities.size() != other.x509_authorities.size() ||
      !SameKeys(jwt_authorities, other.jwt_authorities) ||
      !SameKeys(wit_authorities, other.wit_authorities)) {
    return false;
  }
  for (size_t i = 0; i < x509_authorities.size(); ++i) {
    if (!x509_authorities[i].Equals(other.x509_authorities[i])) return false;
  }
  return true;
}

absl::Status BundleSet::Put(Bundle bundle) {
  if (bundle.trust_domain.empty()) {
    return absl::InvalidArgumentError("bundle set: bundle has no trust domain");
  }
  TrustDomain td = bundle.trust_domain;
  bundles_.insert_or_assign(std::move(td), std::move(bundle));
  return absl::OkStatus();
}

bool BundleSet::Remove(const TrustDomain& td) { return bundles_.erase(td) > 0; }

const Bundle* BundleSet::Find(const TrustDomain& td) const {
  auto it = bundles_.find(td);
  return it == bundles_.end() ? nullptr : &it->second;
}

std::optional<std::vector<Certificate>> BundleSet::X509AuthoritiesFor(const TrustDomain& td) const {
  const Bundle* bundle = Find(td);
  if (bundle == nullptr) return std::nullopt;
  return bundle->x509_authorities;
}

absl::StatusOr<PublicKey> BundleSet::FindJwtAuthority(const TrustDomain& td,
                                                      std::string_view kid) const {
  const Bundle* bundle = Find(td);
  if (bundle == nullptr) {
    return absl::NotFoundError(StrCat("no bundle for trust domain ", td.name()));
  }
  const PublicKey* key = bundle->FindJwtAuthority(kid);
  if (key == nullptr) {
    return absl::NotFoundError(
        StrCat("trust domain ", td.name(), " has no jwt-svid key with kid ", Quote(kid)));
  }
  return *key;
}

absl::StatusOr<PublicKey> BundleSet::FindWitAuthority(const TrustDomain& td,
                                                      std::string_view kid) const {
  const Bundle* bundle = Find(td);
  if (bundle == nullptr) {
    return absl::NotFoundError(StrCat("no bundle for trust domain ", td.name()));
  }
  if (const PublicKey* key = bundle->FindWitAuthority(kid); key != nullptr) return *key;
  if (bundle->FindJwtAuthority(kid) != nullptr) {
    return absl::NotFoundError(StrCat("trust domain ", td.name(), ": kid ", Quote(kid),
                                      " is a jwt-svid key, not a wit-svid key"));
  }
  return absl::NotFoundError(
      StrCat("trust domain ", td.name(), " has no wit-svid key with kid ", Quote(kid)));
}

}  // namespace spinel::common
