#include "common/x509_svid_validator.h"

#include "common/ssl_error.h"
#include "common/strings.h"

namespace spinel::common {
namespace {

// True when the certificate has a keyUsage extension with `bit` (a KU_* mask) set.
bool HasKeyUsage(X509* x509, uint32_t bit) {
  return (X509_get_extension_flags(x509) & EXFLAG_KUSAGE) != 0 &&
         (X509_get_key_usage(x509) & bit) != 0;
}

// Steps (b) and (c).
absl::StatusOr<SpiffeId> LeafSpiffeId(const Certificate& leaf) {
  std::vector<std::string> uris = leaf.UriSans();
  if (uris.empty()) return absl::InvalidArgumentError("certificate has no URI SAN");
  if (uris.size() > 1) {
    return absl::InvalidArgumentError(StrCat("certificate has ", uris.size(), " URI SANs"));
  }
  absl::StatusOr<SpiffeId> id = SpiffeId::Parse(uris.front());
  if (!id.ok()) {
    return absl::InvalidArgumentError(StrCat("certificate URI SAN ", Quote(uris.front()),
                                             " is not a valid SPIFFE ID: ", id.status().message()));
  }
  return id;
}

// The X509_STORE of trust anchors for step (i). Adding up-refs each certificate.
absl::StatusOr<SslPtr<X509_STORE>> NewStore(const std::vector<Certificate>& roots) {
  SslPtr<X509_STORE> store(X509_STORE_new());
  if (!store) return SslError("X509_STORE_new");
  for (const Certificate& root : roots) {
    if (X509_STORE_add_cert(store.get(), root.x509()) != 1) {
      return SslError("adding an X.509 authority to the trust store");
    }
  }
  return store;
}

std::vector<Certificate> AdoptChain(STACK_OF(X509) * chain) {
  X509StackPtr owned(chain);
  std::vector<Certificate> out;
  while (sk_X509_num(owned.get()) > 0) {
    out.push_back(Certificate::Adopt(SslPtr<X509>(sk_X509_shift(owned.get()))));
  }
  return out;
}

// Step (i): RFC 5280 path validation with OpenSSL; returns the built chain.
absl::StatusOr<std::vector<Certificate>> VerifyPath(const std::vector<Certificate>& chain,
                                                    const std::vector<Certificate>& roots,
                                                    TimePoint now) {
  absl::StatusOr<SslPtr<X509_STORE>> store = NewStore(roots);
  if (!store.ok()) return store.status();
  // The stack borrows the certificates: it is freed with sk_X509_free, not pop_free.
  SslPtr<STACK_OF(X509)> untrusted(sk_X509_new_null());
  if (!untrusted) return SslError("sk_X509_new_null");
  for (size_t i = 1; i < chain.size(); ++i) {
    if (sk_X509_push(untrusted.get(), chain[i].x509()) == 0) return SslError("sk_X509_push");
  }
  SslPtr<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx ||
      X509_STORE_CTX_init(ctx.get(), store->get(), chain.front().x509(), untrusted.get()) != 1) {
    return SslError("X509_STORE_CTX_init");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(ToUnixSeconds(now)));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  if (X509_verify_cert(ctx.get()) != 1) {
    int error = X509_STORE_CTX_get_error(ctx.get());
    int depth = X509_STORE_CTX_get_error_depth(ctx.get());
    ClearSslErrors();
    return absl::PermissionDeniedError(
        StrCat("X509-SVID verification failed: ", X509_verify_cert_error_string(error), " (depth ",
               depth, ")"));
  }
  return AdoptChain(X509_STORE_CTX_get1_chain(ctx.get()));
}

}  // namespace

std::optional<std::vector<Certificate>> X509AuthorityMap::X509AuthoritiesFor(
    const TrustDomain& td) const {
  auto it = authorities_.find(td);
  if (it == authorities_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<SpiffeId> CheckX509SvidLeaf(const Certificate& leaf) {
  X509* x509 = leaf.x509();
  if ((X509_get_extension_flags(x509) & EXFLAG_INVALID) != 0) {
    ClearSslErrors();
    return absl::InvalidArgumentError("leaf has a malformed or duplicate extension");
  }
  absl::StatusOr<SpiffeId> id = LeafSpiffeId(leaf);  // (b), (c)
  if (!id.ok()) return id.status();
  if (leaf.IsCa()) return absl::InvalidArgumentError("leaf certificate is a CA");  // (d)
  if (HasKeyUsage(x509, KU_KEY_CERT_SIGN)) {                                       // (e)
    return absl::InvalidArgumentError("leaf certificate has keyUsage keyCertSign");
  }
  if (HasKeyUsage(x509, KU_CRL_SIGN)) {  // (f)
    return absl::InvalidArgumentError("leaf certificate has keyUsage cRLSign");
  }
  if (id->path().empty()) {  // (g)
    return absl::InvalidArgumentError(
        StrCat("leaf SPIFFE ID ", id->ToString(), " has no path (root IDs are not SVIDs)"));
  }
  if (!HasKeyUsage(x509, KU_DIGITAL_SIGNATURE)) {
    return absl::InvalidArgumentError("leaf certificate lacks keyUsage digitalSignature");
  }
  return id;
}

absl::StatusOr<VerifiedX509Svid> VerifyX509Svid(const std::vector<Certificate>& chain,
                                                const X509AuthoritySource& authorities,
                                                TimePoint now) {
  if (chain.empty()) return absl::InvalidArgumentError("X509-SVID chain is empty");  // (a)
  absl::StatusOr<SpiffeId> id = CheckX509SvidLeaf(chain.front());                    // (b)-(g)
  if (!id.ok()) return id.status();
  const TrustDomain& td = id->trust_domain();
  std::optional<std::vector<Certificate>> roots = authorities.X509AuthoritiesFor(td);  // (h)
  if (!roots.has_value()) {
    return absl::PermissionDeniedError(StrCat("no X.509 bundle for trust domain ", td.name()));
  }
  if (roots->empty()) {
    return absl::PermissionDeniedError(
        StrCat("the bundle for trust domain ", td.name(), " has no X.509 authorities"));
  }
  absl::StatusOr<std::vector<Certificate>> verified = VerifyPath(chain, *roots, now);  // (i)
  if (!verified.ok()) return verified.status();
  return VerifiedX509Svid{std::move(*id), std::move(*verified)};
}

absl::StatusOr<VerifiedX509Svid> VerifyX509SvidDer(std::string_view chain_der,
                                                   const X509AuthoritySource& authorities,
                                                   TimePoint now) {
  absl::StatusOr<std::vector<Certificate>> chain = Certificate::ParseDerChain(chain_der);
  if (!chain.ok()) return chain.status();
  return VerifyX509Svid(*chain, authorities, now);
}

absl::StatusOr<X509Svid> ParseOwnX509Svid(std::string_view chain_der,
                                          std::string_view key_pkcs8_der) {
  absl::StatusOr<std::vector<Certificate>> chain = Certificate::ParseDerChain(chain_der);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<SpiffeId> id = CheckX509SvidLeaf(chain->front());
  if (!id.ok()) return id.status();
  for (size_t i = 1; i < chain->size(); ++i) {
    const Certificate& cert = (*chain)[i];
    if (!cert.IsCa() || !HasKeyUsage(cert.x509(), KU_KEY_CERT_SIGN)) {
      return absl::InvalidArgumentError(
          StrCat("certificate #", i + 1, " of the X509-SVID chain is not a CA with keyCertSign"));
    }
  }
  absl::StatusOr<PrivateKey> key = PrivateKey::FromPkcs8Der(key_pkcs8_der);
  if (!key.ok()) {
    return absl::InvalidArgumentError(StrCat("X509-SVID private key: ", key.status().message()));
  }
  if (EVP_PKEY_eq(key->evp(), X509_get0_pubkey(chain->front().x509())) != 1) {
    ClearSslErrors();
    return absl::InvalidArgumentError(
        "X509-SVID private key does not match the leaf certificate's public key");
  }
  return X509Svid{std::move(*id), std::move(*chain), std::move(*key)};
}

}  // namespace spinel::common
