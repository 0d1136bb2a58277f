#include "server/ca/authority_journal.h"

#include <cctype>
#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "common/file_util.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace spinel::server {
namespace {

using common::StrCat;
using nlohmann::json;

absl::Status DataLoss(const std::string& dir, std::string_view what) {
  return absl::DataLossError(StrCat("authority journal ", dir, ": ", what));
}

absl::Status Missing(const std::string& path, const absl::Status& status) {
  return absl::DataLossError(
      StrCat("authority journal is missing ", path, ": ", std::string(status.message())));
}

absl::StatusOr<std::string> ReadRequired(const std::string& path) {
  absl::StatusOr<std::string> text = common::ReadFile(path);
  if (!text.ok()) return Missing(path, text.status());
  return text;
}

// The key file `path` of the journal in `dir`, parsed; its bytes stay in SecretData. `what`
// names the key in the error ("x509 authority <id>").
absl::StatusOr<common::PrivateKey> ReadKey(const std::string& dir, const std::string& path,
                                           std::string_view what) {
  absl::StatusOr<common::SecretData> pem = common::ReadSecretFile(path);
  if (!pem.ok()) return Missing(path, pem.status());
  absl::StatusOr<common::PrivateKey> key = common::PrivateKey::FromPem(pem->view());
  if (!key.ok()) return DataLoss(dir, StrCat("bad key for ", what));
  return key;
}

// Writes `key` as PKCS#8 PEM to `path` (0600), through SecretData only.
absl::Status WriteKey(const std::string& path, const common::PrivateKey& key) {
  SPINEL_ASSIGN_OR_RETURN(const common::SecretData pem, key.ToPkcs8Pem());
  return common::WriteFileAtomic(path, pem.view());
}

absl::StatusOr<std::vector<common::Certificate>> ReadCerts(const std::string& path) {
  SPINEL_ASSIGN_OR_RETURN(std::string pem, ReadRequired(path));
  auto certs = common::Certificate::ParsePemChain(pem);
  if (!certs.ok()) {
    return absl::DataLossError(StrCat("authority journal has a damaged certificate file ", path));
  }
  return certs;
}

// Slot ids become file names: only [A-Za-z0-9_-] is accepted from state.json.
bool IsSafeId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
  }
  return true;
}

}  // namespace

absl::Status AuthorityJournal::SaveX509Files(const X509Authority& a) const {
  std::string base = StrCat(dir_, "/x509-", a.id);
  if (!common::FileExists(base + ".key")) {
    SPINEL_RETURN_IF_ERROR(WriteKey(base + ".key", *a.key));
  }
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(base + ".pem", a.certificate.ToPem()));
  if (a.upstream_root) {
    SPINEL_RETURN_IF_ERROR(
        common::WriteFileAtomic(base + ".chain.pem", common::ConcatPem(a.intermediates)));
    SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(base + ".root.pem", a.upstream_root->ToPem()));
  }
  return absl::OkStatus();
}

absl::Status AuthorityJournal::SaveKeyFile(std::string_view prefix, const JwtAuthority& a) const {
  std::string path = StrCat(dir_, "/", prefix, "-", a.kid, ".key");
  if (common::FileExists(path)) return absl::OkStatus();
  return WriteKey(path, *a.key);
}

absl::Status AuthorityJournal::Save(const AuthorityState& state) {
  SPINEL_RETURN_IF_ERROR(common::MakeDirs(dir_, 0700));
  json doc = {{"sequence", state.sequence},
              {"x509", json::array()},
              {"jwt", json::array()},
              {"wit", json::array()}};
  for (const X509Authority& a : state.x509) {
    SPINEL_RETURN_IF_ERROR(SaveX509Files(a));
    doc["x509"].push_back({{"id", a.id},
                           {"state", SlotStateName(a.state)},
                           {"upstream", a.upstream_root.has_value()}});
  }
  for (const auto& [prefix, slots] : {std::pair{"jwt", &state.jwt}, std::pair{"wit", &state.wit}}) {
    for (const JwtAuthority& a : *slots) {
      SPINEL_RETURN_IF_ERROR(SaveKeyFile(prefix, a));
      doc[prefix].push_back({{"kid", a.kid},
                             {"state", SlotStateName(a.state)},
                             {"not_before", common::ToUnixSeconds(a.not_before)},
                             {"not_after", common::ToUnixSeconds(a.not_after)}});
    }
  }
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(dir_ + "/state.json", doc.dump(2) + "\n"));
  RemoveUnreferenced(state);
  return absl::OkStatus();
}

void AuthorityJournal::RemoveUnreferenced(const AuthorityState& state) const {
  std::set<std::string> keep = {"state.json"};
  for (const X509Authority& a : state.x509) {
    for (const char* suffix : {".key", ".pem", ".chain.pem", ".root.pem"}) {
      keep.insert(StrCat("x509-", a.id, suffix));
    }
  }
  for (const JwtAuthority& a : state.jwt) keep.insert(StrCat("jwt-", a.kid, ".key"));
  for (const WitAuthority& a : state.wit) keep.insert(StrCat("wit-", a.kid, ".key"));
  std::error_code ec;
  for (const auto& file : std::filesystem::directory_iterator(dir_, ec)) {
    std::string name = file.path().filename().string();
    if (keep.count(name) == 0) std::filesystem::remove(file.path(), ec);
  }
}

absl::StatusOr<X509Authority> AuthorityJournal::LoadX509(const std::string& id,
                                                         SlotState state) const {
  const std::string base = StrCat(dir_, "/x509-", id);
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key,
                          ReadKey(dir_, base + ".key", StrCat("x509 authority ", id)));
  SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> cert, ReadCerts(base + ".pem"));
  X509Authority a{.id = id,
                  .state = state,
                  .certificate = cert.front(),
                  .upstream_root = std::nullopt,
                  .intermediates = {},
                  .key = std::make_shared<const common::PrivateKey>(std::move(key))};
  if (common::FileExists(base + ".root.pem")) {
    SPINEL_ASSIGN_OR_RETURN(std::vector<common::Certificate> root, ReadCerts(base + ".root.pem"));
    a.upstream_root = root.front();
    SPINEL_ASSIGN_OR_RETURN(std::string chain_pem, ReadRequired(base + ".chain.pem"));
    if (!chain_pem.empty()) {
      SPINEL_ASSIGN_OR_RETURN(a.intermediates, ReadCerts(base + ".chain.pem"));
    }
  }
  return a;
}

absl::StatusOr<JwtAuthority> AuthorityJournal::LoadKeySlot(std::string_view prefix,
                                                           const json& slot) const {
  auto phase = SlotStateFromName(slot.at("state").get<std::string>());
  if (!phase) return DataLoss(dir_, "unknown slot state");
  const std::string kid = slot.at("kid").get<std::string>();
  if (!IsSafeId(kid)) return DataLoss(dir_, StrCat("bad ", prefix, " authority kid"));
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key,
                          ReadKey(dir_, StrCat(dir_, "/", prefix, "-", kid, ".key"),
                                  StrCat(prefix, " authority ", kid)));
  JwtAuthority a;
  a.kid = kid;
  a.state = *phase;
  a.not_before = common::FromUnixSeconds(slot.at("not_before").get<int64_t>());
  a.not_after = common::FromUnixSeconds(slot.at("not_after").get<int64_t>());
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey pub, key.Public());
  a.public_key = pub;
  a.key = std::make_shared<const common::PrivateKey>(std::move(key));
  return a;
}

absl::StatusOr<std::optional<AuthorityState>> AuthorityJournal::Load() const {
  absl::StatusOr<std::string> text = common::ReadFile(dir_ + "/state.json");
  if (absl::IsNotFound(text.status())) return std::optional<AuthorityState>();
  if (!text.ok()) return text.status();
  json doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return DataLoss(dir_, "state.json is not JSON");
  AuthorityState state;
  try {
    state.sequence = doc.at("sequence").get<uint64_t>();
    for (const json& slot : doc.at("x509")) {
      auto phase = SlotStateFromName(slot.at("state").get<std::string>());
      if (!phase) return DataLoss(dir_, "unknown slot state");
      std::string id = slot.at("id").get<std::string>();
      if (!IsSafeId(id)) return DataLoss(dir_, "bad x509 authority id");
      SPINEL_ASSIGN_OR_RETURN(X509Authority a, LoadX509(id, *phase));
      state.x509.push_back(std::move(a));
    }
    for (const json& slot : doc.at("jwt")) {
      SPINEL_ASSIGN_OR_RETURN(JwtAuthority a, LoadKeySlot("jwt", slot));
      state.jwt.push_back(std::move(a));
    }
    // Absent in journals written before WIT-SVID keys existed: the next rotation creates one.
    for (const json& slot : doc.value("wit", json::array())) {
      SPINEL_ASSIGN_OR_RETURN(WitAuthority a, LoadKeySlot("wit", slot));
      state.wit.push_back(std::move(a));
    }
  } catch (const json::exception& e) {
    return DataLoss(dir_, StrCat("state.json: ", e.what()));
  }
  return std::optional<AuthorityState>(std::move(state));
}

}  // namespace spinel::server
