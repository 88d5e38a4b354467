/*
 * Cheaper parsing of the servers' certificates for the load generator's
 * TLS mode (tls_pubkey.c): called once, before the first handshake.
 */
#ifndef LOADGEN_TLS_PUBKEY_H
#define LOADGEN_TLS_PUBKEY_H

int tls_pubkey_fast(void); /* 0, or -1 if OpenSSL refused (then parsing stays as it was) */

#endif
