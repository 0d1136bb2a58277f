// spinel-example-user-issuer: a small user identity issuer for the demo and tests, standing in
// for an organization's OpenID Connect provider (what a zone's `trusted_issuers` trusts;
// common/user_token.h is what Spinel checks).
//
//   init DIR [--issuer URL]   an EC P-256 signing key (DIR/issuer_key.pem, 0600), its JWK Set
//                             (DIR/jwks.json: the zone's jwks_file) and the issuer URL
//                             (DIR/issuer)
//   issue DIR --sub alice --aud AUD [--claim groups=sre] [--claim email=...] [--ttl 10m]
//                             prints an ES256 JWT (typ "JWT", kid = the key's RFC 7638
//                             thumbprint) with iss, sub, aud, iat, nbf, exp and jti, plus the
//                             claims: "groups" and "roles", and any claim given more than once,
//                             are arrays of strings; others are strings.
// Exit codes: 0 done, 1 error, 2 bad flags.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/clock.h"
#include "common/duration.h"
#include "common/file_util.h"
#include "common/jwk.h"
#include "common/jwt_encode.h"
#include "common/private_jwk.h"
#include "common/random.h"
#include "common/status_macros.h"
#include "common/strings.h"

namespace common = spinel::common;
using nlohmann::json;

namespace {

constexpr char kDefaultIssuer[] = "https://users.demo.spinel.example";

struct IssueFlags {
  std::string dir, sub, aud, ttl = "10m";
  std::vector<std::string> claims;
};

absl::Status Init(const std::string& dir, const std::string& issuer) {
  SPINEL_ASSIGN_OR_RETURN(common::PrivateKey key, common::PrivateKey::Generate());
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey public_key, key.Public());
  SPINEL_ASSIGN_OR_RETURN(json jwk, common::PublicKeyToJwk(public_key));
  SPINEL_ASSIGN_OR_RETURN(std::string kid, common::JwkThumbprint(public_key));
  jwk["kid"] = kid;
  jwk["use"] = "sig";
  jwk["alg"] = "ES256";
  SPINEL_RETURN_IF_ERROR(common::MakeDirs(dir, 0700));
  SPINEL_ASSIGN_OR_RETURN(common::SecretData pem, key.ToPkcs8Pem());
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(dir + "/issuer_key.pem", pem.view(), 0600));
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(
      dir + "/jwks.json", json{{"keys", json::array({jwk})}}.dump(2) + "\n", 0644));
  SPINEL_RETURN_IF_ERROR(common::WriteFileAtomic(dir + "/issuer", issuer + "\n", 0644));
  std::printf("Wrote %s/issuer_key.pem, %s/jwks.json (kid %s) and %s/issuer (%s)\n", dir.c_str(),
              dir.c_str(), kid.c_str(), dir.c_str(), issuer.c_str());
  return absl::OkStatus();
}

absl::StatusOr<json> ExtraClaims(const std::vector<std::string>& claims) {
  json out = json::object();
  for (const std::string& kv : claims) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(common::StrCat("--claim: expected name=value, got ", kv));
    }
    const std::string name = kv.substr(0, eq), value = kv.substr(eq + 1);
    if (name == "groups" || name == "roles" || out.contains(name)) {
      json& slot = out[name];
      if (slot.is_string()) slot = json::array({slot});
      if (!slot.is_array()) slot = json::array();
      slot.push_back(value);
    } else {
      out[name] = value;
    }
  }
  return out;
}

std::string Trimmed(std::string text) {
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  return text;
}

absl::StatusOr<std::string> Issue(const IssueFlags& flags) {
  SPINEL_ASSIGN_OR_RETURN(std::chrono::milliseconds ttl, common::ParseDuration(flags.ttl));
  SPINEL_ASSIGN_OR_RETURN(json claims, ExtraClaims(flags.claims));
  SPINEL_ASSIGN_OR_RETURN(std::string pem, common::ReadFile(flags.dir + "/issuer_key.pem"));
  absl::StatusOr<common::PrivateKey> key = common::PrivateKey::FromPem(pem);
  common::WipeSecret(pem);
  if (!key.ok()) return key.status();
  SPINEL_ASSIGN_OR_RETURN(std::string issuer, common::ReadFile(flags.dir + "/issuer"));
  SPINEL_ASSIGN_OR_RETURN(common::PublicKey public_key, key->Public());
  SPINEL_ASSIGN_OR_RETURN(std::string kid, common::JwkThumbprint(public_key));
  SPINEL_ASSIGN_OR_RETURN(std::string jti, common::RandomBytes(16));
  const int64_t now = common::ToUnixSeconds(common::SystemClock::Get().Now());
  claims.update(json{{"iss", Trimmed(issuer)},
                     {"sub", flags.sub},
                     {"aud", flags.aud},
                     {"iat", now},
                     {"nbf", now},
                     {"exp", now + std::chrono::duration_cast<std::chrono::seconds>(ttl).count()},
                     {"jti", common::Base64UrlEncode(jti)}});
  SPINEL_ASSIGN_OR_RETURN(common::JwsSigner signer,
                          common::JwsSigner::Create(*key, common::JwsAlgorithm::kEs256));
  SPINEL_ASSIGN_OR_RETURN(std::string header,
                          common::EncodeJwtHeader(common::JwsAlgorithm::kEs256, kid, "JWT"));
  return common::SignJwt(signer, header, claims);
}

int Report(const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "error: %s\n", std::string(status.message()).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"spinel-example-user-issuer: a demo OpenID Connect-style user token issuer"};
  app.require_subcommand(1);
  std::string init_dir, issuer = kDefaultIssuer;
  CLI::App* init = app.add_subcommand("init", "Create the signing key and jwks.json in DIR");
  init->add_option("dir", init_dir, "Issuer directory")->required();
  init->add_option("--issuer", issuer, "The issuer URL (\"iss\")");
  IssueFlags flags;
  CLI::App* issue = app.add_subcommand("issue", "Print a signed user token");
  issue->add_option("dir", flags.dir, "Issuer directory (from init)")->required();
  issue->add_option("--sub", flags.sub, "The user's subject")->required();
  issue->add_option("--aud", flags.aud, "The audience")->required();
  issue->add_option("--claim", flags.claims, "Another claim name=value (repeatable)");
  issue->add_option("--ttl", flags.ttl, "Lifetime (default 10m)");
  CLI11_PARSE(app, argc, argv);
  if (init->parsed()) return Report(Init(init_dir, issuer));
  absl::StatusOr<std::string> token = Issue(flags);
  if (!token.ok()) return Report(token.status());
  std::printf("%s\n", token->c_str());
  return 0;
}
