// A self-signed certificate made in memory for the native TLS tests and the
// fuzz target (no openssl(1), no files): an EC P-256 key and a certificate
// for CN=localhost, as PEM text ready for TlsConfig, and contexts built on it.
#ifndef IOREACTOR_TEST_TLS_CERTS_H
#define IOREACTOR_TEST_TLS_CERTS_H

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "tls_context.h"

namespace testcerts {

struct Pem {
  std::string key;
  std::string cert;
};

inline std::string bio_text(BIO* b) {
  char* p = nullptr;
  long n = BIO_get_mem_data(b, &p);
  std::string s(p, n > 0 ? static_cast<size_t>(n) : 0);
  BIO_free(b);
  return s;
}

// A fresh key and a certificate for `cn` valid from now for a day.
inline Pem self_signed(const char* cn = "localhost") {
  Pem out;
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509_sign(x, key, EVP_sha256());
  BIO* kb = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(kb, key, nullptr, nullptr, 0, nullptr, nullptr);
  out.key = bio_text(kb);
  BIO* cb = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cb, x);
  out.cert = bio_text(cb);
  X509_free(x);
  EVP_PKEY_free(key);
  return out;
}

// A context for one side: a server presents one process-wide self-signed
// certificate; a client verifies nothing. nullptr (with *err) on failure.
inline std::shared_ptr<ioreactor::TlsContext> context(bool server, std::string* err) {
  static const Pem pem = self_signed();
  ioreactor::TlsConfig cfg;
  cfg.server = server;
  if (server) {
    cfg.key_pem = pem.key;
    cfg.cert_pem = pem.cert;
  }
  return ioreactor::TlsContext::create(cfg, err);
}

}  // namespace testcerts

#endif  // IOREACTOR_TEST_TLS_CERTS_H
