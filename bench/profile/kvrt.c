// Bounded key-value client for profiling: N connections, each sends K request
// lines with INFL in flight ("SET k<nonce>.<conn>.<key> v<conn>-<n>" one line in four, else
// "GET k<nonce>.<conn>.<key>", 16 keys per connection, as bench/loadgen/kv.c), then
// closes. A reply is counted at each "\n"; contents are not checked (the
// load generator does that). usage: kvrt PORT N K [INFL]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
struct c { int fd, id; long sent, done; };
static char out[96 * 256];
static unsigned nonce; /* keys as long as the load generator's */
/* Writes m request lines for c in one write. */
static int send_reqs(struct c* c, long m) {
  size_t n = 0;
  for (long i = 0; i < m; i++, c->sent++) {
    unsigned key = (unsigned)((c->sent * 5) % 16);
    if (c->sent % 4 == 0) n += sprintf(out + n, "SET k%x.%d.%u v%d-%ld\r\n", nonce, c->id, key, c->id, c->sent + 2);
    else n += sprintf(out + n, "GET k%x.%d.%u\r\n", nonce, c->id, key);
  }
  if (write(c->fd, out, n) != (ssize_t)n) { perror("write"); return -1; }
  return 0;
}
static long count(struct c* c, const char* buf, ssize_t got) {
  (void)c;
  long n = 0;
  for (ssize_t i = 0; i < got; i++) n += buf[i] == '\n';
  return n;
}
#include "pipelined_loop.h"

int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: kvrt PORT N K [INFL]\n"); return 1; }
  int port = atoi(argv[1]), n = atoi(argv[2]); long k = atol(argv[3]);
  long infl = argc > 4 ? atol(argv[4]) : 1; if (infl > 256) infl = 256; if (infl > k) infl = k;
  struct c* cs = calloc(n, sizeof *cs);
  nonce = (unsigned)getpid() * 2654435761u;
  for (int i = 0; i < n; i++) cs[i].id = i;
  return pipelined_main(port, n, k, infl, cs);
}
