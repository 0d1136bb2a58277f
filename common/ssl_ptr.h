// One owning smart pointer per OpenSSL type. This is the only place in Spinel where OpenSSL
// `*_free` functions are called; everything else holds OpenSSL objects through SslPtr<T>.
//
//   SslPtr<EVP_PKEY> key(EVP_PKEY_Q_keygen(...));
//
// Ownership transfer into OpenSSL is done with `.release()` right after the call that takes
// ownership succeeds, with a comment saying so.
#pragma once

#include <memory>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace spinel::common {

template <typename T>
struct SslDeleter;

#define SPINEL_SSL_DELETER(type, free_fn)          \
  template <>                                      \
  struct SslDeleter<type> {                        \
    void operator()(type* p) const { free_fn(p); } \
  }

SPINEL_SSL_DELETER(EVP_PKEY, EVP_PKEY_free);
SPINEL_SSL_DELETER(EVP_PKEY_CTX, EVP_PKEY_CTX_free);
SPINEL_SSL_DELETER(EVP_MD_CTX, EVP_MD_CTX_free);
SPINEL_SSL_DELETER(BIO, BIO_free_all);
SPINEL_SSL_DELETER(BIGNUM, BN_free);
SPINEL_SSL_DELETER(X509, X509_free);
SPINEL_SSL_DELETER(X509_REQ, X509_REQ_free);
SPINEL_SSL_DELETER(X509_NAME, X509_NAME_free);
SPINEL_SSL_DELETER(X509_EXTENSION, X509_EXTENSION_free);
SPINEL_SSL_DELETER(X509_STORE, X509_STORE_free);
SPINEL_SSL_DELETER(X509_STORE_CTX, X509_STORE_CTX_free);
SPINEL_SSL_DELETER(X509_VERIFY_PARAM, X509_VERIFY_PARAM_free);
// ASN1_INTEGER, ASN1_OCTET_STRING and ASN1_TIME are all ASN1_STRING in OpenSSL.
SPINEL_SSL_DELETER(ASN1_STRING, ASN1_STRING_free);
SPINEL_SSL_DELETER(BASIC_CONSTRAINTS, BASIC_CONSTRAINTS_free);
SPINEL_SSL_DELETER(EXTENDED_KEY_USAGE, EXTENDED_KEY_USAGE_free);
SPINEL_SSL_DELETER(GENERAL_NAMES, GENERAL_NAMES_free);
SPINEL_SSL_DELETER(GENERAL_NAME, GENERAL_NAME_free);
SPINEL_SSL_DELETER(AUTHORITY_KEYID, AUTHORITY_KEYID_free);
SPINEL_SSL_DELETER(ECDSA_SIG, ECDSA_SIG_free);
SPINEL_SSL_DELETER(OSSL_PARAM_BLD, OSSL_PARAM_BLD_free);
SPINEL_SSL_DELETER(OSSL_PARAM, OSSL_PARAM_free);
SPINEL_SSL_DELETER(SSL_CTX, SSL_CTX_free);
SPINEL_SSL_DELETER(SSL, SSL_free);
SPINEL_SSL_DELETER(STACK_OF(X509), sk_X509_free);

#undef SPINEL_SSL_DELETER

// Stack that also frees the certificates it holds.
struct X509StackPopFree {
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), X509StackPopFree>;

// Stack that also frees the extensions it holds (e.g. X509_REQ_get_extensions output).
struct X509ExtensionStackPopFree {
  void operator()(STACK_OF(X509_EXTENSION) * s) const {
    sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
  }
};
using X509ExtensionStackPtr = std::unique_ptr<STACK_OF(X509_EXTENSION), X509ExtensionStackPopFree>;

// Memory from OPENSSL_malloc (e.g. i2d_* outputs).
struct OpensslFree {
  void operator()(void* p) const { OPENSSL_free(p); }
};
template <typename T>
using OpensslBuffer = std::unique_ptr<T, OpensslFree>;

template <typename T>
using SslPtr = std::unique_ptr<T, SslDeleter<T>>;

}  // namespace spinel::common
