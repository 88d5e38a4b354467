// Bounded HTTP client for profiling: N keep-alive connections, each makes K
// "GET / HTTP/1.1" requests with INFL pipelined, then closes. A response is
// counted at each "\r\n\r\n" (the hello body holds none), so it works for any
// server's head. usage: hrt PORT N K [INFL]
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
int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: hrt PORT N K [INFL]\n"); return 1; }
  int port = atoi(argv[1]), n = atoi(argv[2]); long k = atol(argv[3]);
  long infl = argc > 4 ? atol(argv[4]) : 1; if (infl > 64) infl = 64; if (infl > k) infl = k;
  struct c* cs = calloc(n, sizeof *cs);
  int ep = epoll_create1(0);
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port); a.sin_addr.s_addr = htonl(0x7f000001);
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (void*)&a, sizeof a) < 0) { perror("connect"); return 1; }
    int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cs[i].fd = fd;
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
      long more = count(c, buf, got); c->done += more;
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
