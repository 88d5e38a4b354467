/*
 * The plumbing every C ceiling server has in common, so each server file
 * holds only its protocol: one listening socket on 127.0.0.1 port 0 (the
 * port printed on stdout, as every server in the harness does), accept4 in
 * a loop until EAGAIN (or EMFILE: the backlog then waits), TCP_NODELAY on
 * each connection, writing out a short write's remainder, and an exit at stdin's end of file so a server never
 * outlives the harness that started it.
 */
#include "cs-net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

int cs_raise_nofile(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  return (int)rl.rlim_cur;
}

void cs_set_events(int ep, int fd, uint32_t ev, int op) {
  struct epoll_event e = {.events = ev, .data.fd = fd};
  epoll_ctl(ep, op, fd, &e);
}

int cs_listen(const char *who) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_in a = {.sin_family = AF_INET};
  socklen_t len = sizeof a;
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1024) < 0) {
    fprintf(stderr, "%s: listen: %s\n", who, strerror(errno));
    exit(1);
  }
  getsockname(fd, (struct sockaddr *)&a, &len);
  printf("%d\n", ntohs(a.sin_port));
  fflush(stdout);
  return fd;
}

void cs_accept_all(int ep, int lfd, int max_fd) {
  for (;;) {
    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return; /* EAGAIN, or EMFILE: the backlog waits */
    if (fd >= max_fd) { close(fd); continue; }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    cs_set_events(ep, fd, EPOLLIN, EPOLL_CTL_ADD);
  }
}

int cs_write_pend(int fd, struct cs_pend *o) {
  ssize_t w = write(fd, o->p + o->off, o->len - o->off);
  if (w < 0 && errno != EAGAIN) return -1;
  if (w > 0) o->off += (size_t)w;
  if (o->off < o->len) return 0;
  free(o->p);
  *o = (struct cs_pend){0};
  return 1;
}

void *cs_alloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size ? size : 1);
  if (p == NULL) {
    fprintf(stderr, "cserver: out of memory (%zu x %zu bytes)\n", n, size);
    exit(1);
  }
  return p;
}

void cs_on_stdin(void) {
  char buf[256];
  ssize_t n = read(0, buf, sizeof buf);
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) exit(0);
}

void cs_serve(const char *who, int *ep, int max_fd, void (*on_event)(int fd, uint32_t events)) {
  *ep = epoll_create1(EPOLL_CLOEXEC);
  int lfd = cs_listen(who);
  cs_set_events(*ep, lfd, EPOLLIN, EPOLL_CTL_ADD);
  cs_set_events(*ep, 0, EPOLLIN, EPOLL_CTL_ADD); /* fails harmlessly if not a pipe */
  struct epoll_event evs[512];
  for (;;) {
    int n = epoll_wait(*ep, evs, 512, -1);
    for (int i = 0; i < n; i++) {
      int fd = evs[i].data.fd;
      if (fd == lfd) cs_accept_all(*ep, lfd, max_fd);
      else if (fd == 0) cs_on_stdin();
      else on_event(fd, evs[i].events);
    }
  }
}
