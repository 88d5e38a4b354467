// Bounded key-value client for profiling: N connections, each sends K request
// lines with INFL in flight ("SET k<nonce>.<conn>.<key> v<conn>-<n>" one line in four, else
// "GET k<nonce>.<conn>.<key>", 16 keys per connection, as bench/loadgen/kv.c), then
// closes. A reply is counted at each "\n"; contents are not checked (the
// load generator does that). usage: kvrt PORT N K [INFL]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
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
static long count(const char* buf, ssize_t got) {
  long n = 0;
  for (ssize_t i = 0; i < got; i++) n += buf[i] == '\n';
  return n;
}
int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: kvrt PORT N K [INFL]\n"); return 1; }
  int port = atoi(argv[1]), n = atoi(argv[2]); long k = atol(argv[3]);
  long infl = argc > 4 ? atol(argv[4]) : 1; if (infl > 256) infl = 256; if (infl > k) infl = k;
  struct c* cs = calloc(n, sizeof *cs);
  nonce = (unsigned)getpid() * 2654435761u;
  int ep = epoll_create1(0);
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port); a.sin_addr.s_addr = htonl(0x7f000001);
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (void*)&a, sizeof a) < 0) { perror("connect"); return 1; }
    int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cs[i].fd = fd; cs[i].id = i;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < n; i++) if (send_reqs(&cs[i], infl) < 0) return 1;
  int live = n; struct epoll_event evs[1024]; static char buf[65536];
  while (live > 0) {
    int r = epoll_wait(ep, evs, 1024, 5000);
    if (r <= 0) { fprintf(stderr, "stall live=%d\n", live); return 2; }
    for (int j = 0; j < r; j++) {
      struct c* c = &cs[evs[j].data.u32];
      ssize_t got = read(c->fd, buf, sizeof buf);
      if (got <= 0) { fprintf(stderr, "read %zd\n", got); return 3; }
      long more = count(buf, got); c->done += more;
      if (c->sent + more > k) more = k - c->sent;
      if (more > 0 && send_reqs(c, more) < 0) return 1;
      if (c->done == k) { close(c->fd); live--; }
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("ops %ld secs %.3f\n", (long)n * k, s);
  return 0;
}
