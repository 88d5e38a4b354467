// The closed loop of the bounded request clients (hrt.c, kvrt.c): N
// connections to 127.0.0.1:PORT, each keeping INFL requests in flight until
// K replies have come back, then it closes; prints "ops N*K secs S" for the
// profiling scripts. The including file defines struct c (with int fd and
// long sent, done), send_reqs(c, m) (writes m requests, adds them to
// c->sent) and count(c, buf, got) (replies completed in a read) before it
// includes this header: the protocol is theirs, the loop is this one.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Connects cs[0..n) and puts them in ep; 0, or -1 after perror. */
static int pipelined_connect(int port, int n, int ep, struct c* cs) {
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port); a.sin_addr.s_addr = htonl(0x7f000001);
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (void*)&a, sizeof a) < 0) { perror("connect"); return -1; }
    int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cs[i].fd = fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  return 0;
}

/* The run; main's exit code (0, 1 on a failed connect or write, 2 stalled, 3 closed early). */
static int pipelined_main(int port, int n, long k, long infl, struct c* cs) {
  int ep = epoll_create1(0);
  if (pipelined_connect(port, n, ep, cs) < 0) return 1;
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
