// Bounded WebSocket echo client for profiling: N connections upgrade on PATH,
// then each makes K round trips of one masked binary frame of SIZE bytes (a
// 6-byte header: SIZE < 126), with one in flight, and closes.
// usage: wsrt PORT N K [SIZE] [PATH]
// The mask key is zero, so an echo carries the payload back unchanged; the
// server still unmasks (the work does not depend on the key). A reply is an
// unmasked frame of SIZE + 2 bytes; only byte counts are checked.
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
struct c { int fd; long sent, done_bytes, goal; };

// Connects and upgrades; the fd, or -1.
static int upgrade(const struct sockaddr_in* a, const char* path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (const void*)a, sizeof *a) < 0) { perror("connect"); return -1; }
  int one = 1; setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char req[512];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path);
  if (write(fd, req, (size_t)n) != n) { perror("write"); return -1; }
  char resp[2048]; size_t got = 0;
  while (got < 4 || memcmp(resp + got - 4, "\r\n\r\n", 4) != 0) {  // the 101 and nothing after it
    ssize_t r = read(fd, resp + got, 1);
    if (r <= 0 || ++got == sizeof resp) { fprintf(stderr, "upgrade failed\n"); return -1; }
  }
  if (strncmp(resp, "HTTP/1.1 101", 12) != 0) { fprintf(stderr, "not 101: %.40s\n", resp); return -1; }
  return fd;
}

int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: wsrt PORT N K [SIZE] [PATH]\n"); return 1; }
  int port = atoi(argv[1]), n = atoi(argv[2]); long k = atol(argv[3]);
  int size = argc > 4 ? atoi(argv[4]) : 64;
  const char* path = argc > 5 ? argv[5] : "/ws";
  if (size > 125) { fprintf(stderr, "SIZE must be < 126\n"); return 1; }
  struct c* cs = calloc(n, sizeof *cs);
  int ep = epoll_create1(0);
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port); a.sin_addr.s_addr = htonl(0x7f000001);
  unsigned char frame[6 + 125]; memset(frame, 'x', sizeof frame);
  frame[0] = 0x82; frame[1] = (unsigned char)(0x80 | size); memset(frame + 2, 0, 4);
  int flen = 6 + size, rlen = 2 + size;
  for (int i = 0; i < n; i++) {
    int fd = upgrade(&a, path);
    if (fd < 0) return 1;
    cs[i].fd = fd; cs[i].goal = k * rlen;
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  struct timespec t0, t1; clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < n; i++) {
    if (write(cs[i].fd, frame, flen) != flen) { perror("write"); return 1; }
    cs[i].sent = 1;
  }
  int live = n; struct epoll_event evs[1024]; char buf[65536];
  while (live > 0) {
    int r = epoll_wait(ep, evs, 1024, 5000);
    if (r <= 0) { fprintf(stderr, "stall live=%d\n", live); return 2; }
    for (int j = 0; j < r; j++) {
      struct c* c = &cs[evs[j].data.u32];
      ssize_t got = read(c->fd, buf, sizeof buf);
      if (got <= 0) { fprintf(stderr, "read %zd\n", got); return 3; }
      c->done_bytes += got;
      if (c->done_bytes % rlen == 0 && c->sent < k) {
        if (write(c->fd, frame, flen) != flen) { perror("w"); return 1; }
        c->sent++;
      }
      if (c->done_bytes == c->goal) { close(c->fd); live--; }
    }
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  printf("ops %ld secs %.3f\n", (long)n * k, s);
  return 0;
}
