/* What the C ceiling servers (c-echo.c, c-ws.c, c-tls.c) share: the listening
 * socket, accepting, the fd limit and the stdin that ends them. */
#ifndef CSERVER_CS_NET_H
#define CSERVER_CS_NET_H

#include <stddef.h>
#include <stdint.h>

/* A short write's remainder, kept for EPOLLOUT. */
struct cs_pend {
  char *p; /* NULL when nothing is owed */
  size_t len, off;
};

/* Raises the fd soft limit to the hard one; returns it (the fd table's size). */
int cs_raise_nofile(void);

/* epoll_ctl with the fd as the event's data. */
void cs_set_events(int ep, int fd, uint32_t ev, int op);

/* Listens on 127.0.0.1 port 0 and prints the port; exits on failure. */
int cs_listen(const char *who);

/* accept4 until EAGAIN; each new fd (below max_fd) gets TCP_NODELAY and EPOLLIN. */
void cs_accept_all(int ep, int lfd, int max_fd);

/* Writes what fd owes: 1 all of it (then freed), 0 some is left, -1 fd failed. */
int cs_write_pend(int fd, struct cs_pend *o);

/* calloc(n, size) that ends the server with a message when memory runs
 * out: a ceiling that silently lost a connection's bytes would measure less
 * work than it claims. */
void *cs_alloc(size_t n, size_t size);

/* Exits once stdin (the harness's pipe) reaches end of file. */
void cs_on_stdin(void);

/* The loop every server runs: makes its epoll fd (stored in *ep first, for
 * the server's own handlers), listens (cs_listen), watches the listener and
 * stdin, then accepts (cs_accept_all), exits at stdin's end (cs_on_stdin) and
 * hands every other event, with its epoll flags, to on_event. Never returns. */
void cs_serve(const char *who, int *ep, int max_fd, void (*on_event)(int fd, uint32_t events));

#endif
