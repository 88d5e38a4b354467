/*
 * The load generator's own TLS 1.3 record layer (tls13.c), which carries a
 * connection after OpenSSL's handshake: what tls.c calls. Slots are the
 * connection slots tls.c keeps its SSL objects in.
 */
#ifndef LOADGEN_TLS13_H
#define LOADGEN_TLS13_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

int tls13_init(int slots); /* 0, or -1 without memory or AES-128-GCM */
void tls13_free(void);
/* SSL_CTX_set_keylog_callback's callback; the slot is SSL_get_app_data - 1. */
void tls13_keylog(const SSL *ssl, const char *line);
/* After SSL_do_handshake returned 1: 1 when the slot's connection moved to
 * our record layer, 0 when it stays on OpenSSL's (see tls13.c). */
int tls13_take_over(int slot, SSL *ssl);
int tls13_on(int slot);
/* Whether records go through gcm_direct.c (1) or EVP (0); after tls13_init. */
int tls13_direct(void);
/* Like read() and write() on the plaintext: >0 bytes, 0 at the end of the
 * stream, -1 with errno (EAGAIN; EPROTO with the reason in why). A write
 * that returned EAGAIN is retried with the same bytes, as with OpenSSL. */
ssize_t tls13_read(int slot, int fd, uint8_t *buf, size_t cap, uint64_t *tickets, char *why, size_t why_len);
ssize_t tls13_write(int slot, int fd, const uint8_t *p, size_t len, char *why, size_t why_len);
/* close_notify (best effort), and the slot goes back to OpenSSL. */
void tls13_close(int slot, int fd);

#endif
