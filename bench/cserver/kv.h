/* The key-value mode of the C ceiling server (kv.c). */
#ifndef CSERVER_KV_H
#define CSERVER_KV_H

#include <stddef.h>

/* Replies to write: a growing buffer the caller owns and reuses. */
struct kv_out {
  char *buf;
  size_t len, cap;
};

void kv_init(int max_fd);
/* Forgets fd's unfinished line (the connection is gone). */
void kv_drop(int fd);
/* Appends to o the replies to every complete line of p[0..n) on fd. */
void kv_feed(int fd, const char *p, size_t n, struct kv_out *o);

#endif
