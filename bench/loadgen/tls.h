/*
 * The load generator's TLS mode (tls.c): what conn.c and main.c call.
 * Plaintext runs never reach these (every hook checks cfg->tls first).
 */
#ifndef LOADGEN_TLS_H
#define LOADGEN_TLS_H

#include <sys/types.h>

#include "loadgen.h"

struct loop;

/* The one TLS 1.3 suite every connection offers. */
#define TLS_SUITE "TLS_AES_128_GCM_SHA256"

struct tls_counts {
  uint64_t full, resumed; /* finished handshakes, over the whole run */
  uint64_t tickets;       /* NewSessionTicket messages received, likewise */
  char version[16], cipher[48];
};

int tls_init(const struct config *cfg, int n); /* 0, or -1 if OpenSSL refused */
void tls_free(void);
int tls_active(const struct conn *c);          /* has TLS state (handshaking or up) */
void tls_begin(struct loop *l, struct conn *c); /* the TCP connect completed */
void tls_handshake(struct loop *l, struct conn *c);
ssize_t tls_read(struct loop *l, struct conn *c, uint8_t *buf, size_t cap);
ssize_t tls_write(struct loop *l, struct conn *c, const uint8_t *p, size_t len);
void tls_close(struct conn *c);
const struct tls_counts *tls_counts(void);
/* Who seals and opens records after the handshake: "aesni" (tls13.c over
 * gcm_direct.c), "evp" (tls13.c over EVP) or "openssl" (SSL_read/SSL_write,
 * with --tls-resume). */
const char *tls_record_cipher(void);

#endif
