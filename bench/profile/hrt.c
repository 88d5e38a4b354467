// Bounded HTTP client for profiling: N keep-alive connections, each makes K
// "GET / HTTP/1.1" requests with INFL pipelined, then closes. A response is
// counted at each "\r\n\r\n" (the hello body holds none), so it works for any
// server's head. usage: hrt PORT N K [INFL]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
static const char REQ[] = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
#define RLEN (sizeof REQ - 1)
struct c { int fd, match; long sent, done; };
static int send_reqs(struct c* c, long m) {
  static char out[RLEN * 64];
  for (long i = 0; i < m; i++) memcpy(out + i * RLEN, REQ, RLEN);
  if (write(c->fd, out, m * RLEN) != (ssize_t)(m * RLEN)) { perror("write"); return -1; }
  c->sent += m;
  return 0;
}
/* Responses completed in buf[0, got): "\r\n\r\n" matches, carried across reads in c->match. */
static long count(struct c* c, const char* buf, ssize_t got) {
  static const char END[] = "\r\n\r\n";
  long n = 0;
  for (ssize_t i = 0; i < got; i++) {
    if (buf[i] == END[c->match]) c->match++;
    else c->match = buf[i] == '\r' ? 1 : 0;
    if (c->match == 4) { n++; c->match = 0; }
  }
  return n;
}
#include "pipelined_loop.h"

int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: hrt PORT N K [INFL]\n"); return 1; }
  int port = atoi(argv[1]), n = atoi(argv[2]); long k = atol(argv[3]);
  long infl = argc > 4 ? atol(argv[4]) : 1; if (infl > 64) infl = 64; if (infl > k) infl = k;
  struct c* cs = calloc(n, sizeof *cs);
  return pipelined_main(port, n, k, infl, cs);
}
