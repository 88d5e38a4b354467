// Bounded echo client for profiling: N connections, each makes K round trips of
// SIZE bytes with INFL in flight, then closes. usage: rt PORT N K [SIZE] [INFL]
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
struct c { int fd; long sent_msgs, done_bytes, goal; long sent_bytes; };
int main(int argc, char** argv) {
  int port = atoi(argv[1]), n = atoi(argv[2]); long k = atol(argv[3]);
  int size = argc > 4 ? atoi(argv[4]) : 64, infl = argc > 5 ? atoi(argv[5]) : 1;
  struct c* cs = calloc(n, sizeof *cs);
  int ep = epoll_create1(0);
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port); a.sin_addr.s_addr = htonl(0x7f000001);
  char buf[65536]; memset(buf, 'x', sizeof buf);
  for (int i = 0; i < n; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (void*)&a, sizeof a) < 0) { perror("connect"); return 1; }
    int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cs[i].fd = fd; cs[i].goal = k * size;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < n; i++) {
    int m = infl < k ? infl : (int)k;
    if (write(cs[i].fd, buf, (size_t)m * size) != m * size) { perror("write"); return 1; }
    cs[i].sent_msgs = m;
  }
  int live = n; struct epoll_event evs[1024];
  while (live > 0) {
    int r = epoll_wait(ep, evs, 1024, 5000);
    if (r <= 0) { fprintf(stderr, "stall live=%d\n", live); return 2; }
    for (int j = 0; j < r; j++) {
      struct c* c = &cs[evs[j].data.u32];
      ssize_t got = read(c->fd, buf, sizeof buf);
      if (got <= 0) { fprintf(stderr, "read %zd\n", got); return 3; }
      long before = c->done_bytes / size; c->done_bytes += got; long done = c->done_bytes / size;
      long more = done - before; if (c->sent_msgs + more > k) more = k - c->sent_msgs;
      if (more > 0) { if (write(c->fd, buf, (size_t)more * size) != more * size) { perror("w"); return 1; } c->sent_msgs += more; }
      if (c->done_bytes == c->goal) { close(c->fd); live--; }
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("ops %ld secs %.3f\n", (long)n * k, s);
  return 0;
}
