#include "server/datastore/records.h"

#include <openssl/rand.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>

#include "common/delegation_token.h"
#include "common/sha256.h"
#include "common/status_macros.h"
#include "common/strings.h"
#include "common/x509_builder.h"

namespace spinel::server {
namespace {

using common::Quote;
using common::StrCat;

constexpr char kHexDigits[] = "0123456789abcdef";

std::string Hex(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out += kHexDigits[data[i] >> 4];
    out += kHexDigits[data[i] & 0xf];
  }
  return out;
}

bool IsIdChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

bool IsVisibleAscii(char c) { return c > 0x20 && c < 0x7f; }

}  // namespace

bool IsCleanText(std::string_view s, bool allow_breaks) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const bool is_break = c == '\n' || c == '\r' || c == '\t';
    if ((c < 0x20 || c == 0x7f) && !(allow_breaks && is_break)) return false;
    // Continuation bytes after the lead byte, and the lead byte's payload bits.
    size_t extra = 0;
    uint32_t cp = c;
    if ((c & 0xe0) == 0xc0) {
      extra = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      extra = 3;
      cp = c & 0x07;
    } else if (c >= 0x80) {
      return false;
    }
    if (s.size() - i <= extra) return false;
    for (size_t k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

namespace {

absl::Status Invalid(std::string_view owner, std::string_view problem) {
  return absl::InvalidArgumentError(StrCat(owner, ": ", problem));
}

absl::Status CheckSelectors(const common::SelectorSet& selectors, std::string_view owner) {
  for (const common::Selector& s : selectors) {
    auto parsed = common::Selector::Parse(s.ToString());
    if (!parsed.ok() || *parsed != s) {
      return Invalid(owner, StrCat("invalid selector ", Quote(s.ToString())));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTtl(std::string_view field, std::string_view what, int64_t ttl,
                      std::string_view owner) {
  if (ttl >= 0) return absl::OkStatus();
  return Invalid(owner, StrCat(field, ": ", what, " must not be negative"));
}

absl::Status CheckEntryFields(const RegistrationEntry& e, std::string_view owner) {
  if (e.spiffe_id.empty()) return Invalid(owner, "spiffe_id: a SPIFFE ID is required");
  if (e.parent_id.empty()) return Invalid(owner, "parent_id: a parent ID is required");
  if (e.selectors.empty()) return Invalid(owner, "at least one selector is required");
  SPINEL_RETURN_IF_ERROR(CheckTtl("x509_svid_ttl", "X.509 SVID TTL", e.x509_svid_ttl, owner));
  SPINEL_RETURN_IF_ERROR(CheckTtl("jwt_svid_ttl", "JWT SVID TTL", e.jwt_svid_ttl, owner));
  if (e.hint.size() > kMaxHintLength) return Invalid(owner, "hint is longer than 1024 bytes");
  if (!IsCleanText(e.hint, /*allow_breaks=*/false)) {
    return Invalid(owner, "hint must be UTF-8 without control characters");
  }
  for (const std::string& dns : e.dns_names) {
    // The rule of the X.509 builder that will put the name in the SVID.
    absl::Status valid = common::CheckDnsName(dns);
    if (!valid.ok()) return Invalid(owner, std::string(valid.message()));
  }
  return CheckSelectors(e.selectors, owner);
}

absl::StatusOr<nlohmann::json> ParseJsonArray(std::string_view json, std::string_view owner) {
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return absl::DataLossError(StrCat("stored ", owner, " has a malformed JSON array"));
  }
  for (const nlohmann::json& item : parsed) {
    if (!item.is_string()) {
      return absl::DataLossError(StrCat("stored ", owner, " has a non-string array item"));
    }
  }
  return parsed;
}

}  // namespace

absl::StatusOr<std::string> NewEntryId() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof(b)) != 1) return absl::InternalError("RAND_bytes failed");
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  std::string hex = Hex(b, sizeof(b));
  return StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-", hex.substr(12, 4), "-",
                hex.substr(16, 4), "-", hex.substr(20));
}

absl::StatusOr<RegistrationEntry> NormalizeEntry(const RegistrationEntry& entry) {
  const std::string owner = entry.id.empty() ? "new entry" : StrCat("entry ", Quote(entry.id));
  if (entry.id.size() > kMaxEntryIdLength ||
      !std::all_of(entry.id.begin(), entry.id.end(), IsIdChar)) {
    return Invalid(owner, "id must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', '-'");
  }
  absl::Status status = CheckEntryFields(entry, owner);
  if (!status.ok()) return status;
  RegistrationEntry out = entry;
  const std::string& td = entry.spiffe_id.trust_domain().name();
  if (out.zone.empty()) out.zone = td;
  if (out.zone != td) {
    return Invalid(owner, StrCat("zone ", Quote(out.zone), " is not the trust domain ", Quote(td),
                                 " of the SPIFFE ID"));
  }
  common::Normalize(out.selectors);
  return out;
}

absl::StatusOr<AttestedAgent> NormalizeAgent(const AttestedAgent& agent) {
  const std::string owner = StrCat("agent ", Quote(agent.spiffe_id.ToString()));
  if (agent.spiffe_id.empty()) return Invalid("agent", "spiffe_id is required");
  const std::string& type = agent.attestation_type;
  if (type.empty() || type.size() > 64 || !std::all_of(type.begin(), type.end(), IsIdChar)) {
    return Invalid(owner, StrCat("invalid attestation type ", Quote(type)));
  }
  const std::string& serial = agent.serial_number;
  if (serial.size() > 128 || !std::all_of(serial.begin(), serial.end(), IsVisibleAscii)) {
    return Invalid(owner, StrCat("invalid serial number ", Quote(serial)));
  }
  absl::Status status = CheckSelectors(agent.selectors, owner);
  if (!status.ok()) return status;
  AttestedAgent out = agent;
  common::Normalize(out.selectors);
  return out;
}

absl::Status ValidateBundle(const BundleRecord& bundle) {
  if (bundle.trust_domain.empty()) return Invalid("bundle", "trust_domain is required");
  const std::string owner = StrCat("bundle of ", Quote(bundle.trust_domain.name()));
  if (bundle.sequence < 0) return Invalid(owner, "sequence cannot be negative");
  nlohmann::json parsed =
      nlohmann::json::parse(bundle.bundle_json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return Invalid(owner, "bundle_json is not a JSON object");
  }
  return absl::OkStatus();
}

namespace {

// The delegation fields of an audit event (ValidateAuditEvent).
absl::Status ValidateAuditDelegation(const AuditEvent& event) {
  for (const std::string* value : {&event.user_issuer, &event.user}) {
    if (value->size() > kMaxAuditFieldLength || !IsCleanText(*value, /*allow_breaks=*/false)) {
      return Invalid("audit event",
                     "user_issuer and user must be at most 4096 bytes of UTF-8 without control "
                     "characters");
    }
  }
  if (event.actor_chain.size() > common::kMaxDelegationChain) {
    return Invalid("audit event",
                   StrCat("actor_chain has more than ", common::kMaxDelegationChain, " actors"));
  }
  for (const std::string& actor : event.actor_chain) {
    if (actor.empty() || actor.size() > kMaxAuditFieldLength ||
        !IsCleanText(actor, /*allow_breaks=*/false)) {
      return Invalid("audit event",
                     "each actor_chain entry must be 1 to 4096 bytes of UTF-8 without control "
                     "characters");
    }
  }
  if (event.user.empty() && (!event.user_issuer.empty() || !event.actor_chain.empty())) {
    return Invalid("audit event", "a user_issuer or actor_chain needs the user it acted for");
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAuditEvent(const AuditEvent& event) {
  const std::pair<const char*, const std::string*> fields[] = {
      {"actor", &event.actor}, {"zone", &event.zone},       {"subject", &event.subject},
      {"kind", &event.kind},   {"outcome", &event.outcome}, {"reason", &event.reason}};
  for (const auto& [name, value] : fields) {
    if (value->size() > kMaxAuditFieldLength || !IsCleanText(*value, /*allow_breaks=*/false)) {
      return Invalid("audit event", StrCat(name,
                                           " must be at most 4096 bytes of UTF-8 without "
                                           "control characters"));
    }
  }
  if (event.details.size() > kMaxAuditDetailsLength ||
      !IsCleanText(event.details, /*allow_breaks=*/true)) {
    return Invalid("audit event", "details must be at most 64 KiB of UTF-8");
  }
  if (event.kind.empty()) return Invalid("audit event", "kind is required");
  return ValidateAuditDelegation(event);
}

std::string Sha256Hex(std::string_view data) {
  // SHA-256 cannot fail on memory input short of a broken OpenSSL; an empty result would then
  // fail every comparison.
  return common::Sha256Hex(data).value_or("");
}

absl::StatusOr<common::SpiffeId> DecodeSpiffeId(std::string_view text, std::string_view owner) {
  auto id = common::SpiffeId::Parse(text);
  if (!id.ok()) {
    return absl::DataLossError(StrCat("stored ", owner, " has invalid SPIFFE ID ", Quote(text)));
  }
  return id;
}

std::string EncodeSelectors(const common::SelectorSet& selectors) {
  std::vector<std::string> texts;
  texts.reserve(selectors.size());
  for (const common::Selector& s : selectors) texts.push_back(s.ToString());
  return EncodeStrings(texts);
}

absl::StatusOr<common::SelectorSet> DecodeSelectors(std::string_view json, std::string_view owner) {
  auto array = ParseJsonArray(json, owner);
  if (!array.ok()) return array.status();
  common::SelectorSet out;
  for (const nlohmann::json& item : *array) {
    auto selector = common::Selector::Parse(item.get_ref<const std::string&>());
    if (!selector.ok()) {
      return absl::DataLossError(
          StrCat("stored ", owner, ": ", std::string(selector.status().message())));
    }
    out.push_back(*std::move(selector));
  }
  return out;
}

std::string EncodeStrings(const std::vector<std::string>& strings) {
  // Callers store validated ASCII/UTF-8, so the replace handler (which never throws) never
  // has anything to replace.
  return nlohmann::json(strings).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

absl::StatusOr<std::vector<std::string>> DecodeStrings(std::string_view json,
                                                       std::string_view owner) {
  auto array = ParseJsonArray(json, owner);
  if (!array.ok()) return array.status();
  std::vector<std::string> out;
  for (const nlohmann::json& item : *array) out.push_back(item.get<std::string>());
  return out;
}

std::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kEntry:
      return "entry";
    case ChangeKind::kAgent:
      return "agent";
    case ChangeKind::kBundle:
      return "bundle";
    case ChangeKind::kFederation:
      return "federation";
    case ChangeKind::kZones:
      return "zones";
  }
  return "unknown";
}

absl::StatusOr<ChangeKind> ParseChangeKind(std::string_view name) {
  for (ChangeKind k : {ChangeKind::kEntry, ChangeKind::kAgent, ChangeKind::kBundle,
                       ChangeKind::kFederation, ChangeKind::kZones}) {
    if (ChangeKindName(k) == name) return k;
  }
  return absl::DataLossError(StrCat("unknown change kind ", Quote(name)));
}

int64_t UnixMillis(common::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

common::TimePoint FromUnixMillis(int64_t ms) {
  return common::TimePoint(std::chrono::milliseconds(ms));
}

}  // namespace spinel::server
