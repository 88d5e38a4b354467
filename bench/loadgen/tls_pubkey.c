/*
 * The load generator's certificate parsing, made cheap (tls_pubkey.h).
 *
 * Every full handshake makes OpenSSL parse the server's certificate
 * (d2i_X509). In OpenSSL 3.0 that decodes the certificate's public key
 * through OSSL_DECODER_CTX_new_for_pkey, which walks every key manager
 * and decoder the providers offer, by name, on each call: ~210 µs per
 * certificate here, a third of the client's instructions per full
 * handshake, as much as the server's RSA signature. (OpenSSL 3.1 caches
 * those look-ups; Debian 12 ships 3.0.)
 *
 * OpenSSL 3.0 still decodes a key the pre-3.0 way, straight from its DER
 * (~20 µs), when an ENGINE says it implements that key type: it prefers
 * engines to providers. This file registers an engine whose only content
 * is OpenSSL's own built-in RSA method, so RSA keys in certificates take
 * that path and the server's RSA-PSS signature is checked by the same
 * built-in RSA code. Nothing else changes: no other key type, no cipher,
 * no digest, and the servers see exactly the same client.
 */
#define OPENSSL_SUPPRESS_DEPRECATED /* the ENGINE API is deprecated in 3.0, not removed */
#include <openssl/engine.h>
#include <openssl/evp.h>

#include "tls_pubkey.h"

/* The engine's key methods: RSA only, and it is OpenSSL's own. */
static int rsa_only(ENGINE *e, EVP_PKEY_METHOD **meth, const int **nids, int nid) {
  static const int ours[] = {EVP_PKEY_RSA};
  (void)e;
  if (!meth) { /* the list of what this engine handles */
    *nids = ours;
    return 1;
  }
  *meth = nid == EVP_PKEY_RSA ? (EVP_PKEY_METHOD *)EVP_PKEY_meth_find(EVP_PKEY_RSA) : NULL;
  return *meth != NULL;
}

int tls_pubkey_fast(void) {
  ENGINE *e = ENGINE_new();
  int ok = e && ENGINE_set_id(e, "loadgen-rsa") && ENGINE_set_name(e, "built-in RSA, legacy decoding") &&
           ENGINE_set_pkey_meths(e, rsa_only) && ENGINE_add(e) && ENGINE_register_pkey_meths(e);
  if (e) ENGINE_free(e); /* OpenSSL's list of engines keeps its own reference */
  return ok ? 0 : -1;
}
