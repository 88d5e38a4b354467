// Socket creation helpers for the loop: numeric addresses to sockaddr and
// back, listening and connecting sockets, accept. Every socket made here is
// non-blocking and close-on-exec from birth (no window where a spawned child
// could inherit it). Errors are returned as -errno (poller.h).
#ifndef IOREACTOR_SOCKETS_H
#define IOREACTOR_SOCKETS_H

#include <sys/socket.h>

#include "loop.h"

namespace ioreactor {
namespace sockets {

// A numeric host (or a UNIX path when family is 0) and port into a sockaddr.
// -EINVAL for a bad family, host or port; -ENAMETOOLONG for a long path.
int to_sockaddr(const SockAddr& addr, struct sockaddr_storage* out, socklen_t* len);
// The reverse, numeric host via inet_ntop. -EAFNOSUPPORT for other families;
// -EINVAL when len is too short for the family (nothing past len is read).
int from_sockaddr(const struct sockaddr* sa, socklen_t len, SockAddr* out);

// A new non-blocking, close-on-exec socket of type (SOCK_STREAM, SOCK_DGRAM),
// or -errno.
int new_socket(int domain, int type);

// True for the IPv6 wildcard "::" (which then also takes IPv4, V6ONLY off).
bool is_v6_any(const struct sockaddr_storage& ss);

// socket + options + bind + listen. reuse_port adds SO_REUSEPORT; "::" is
// dual-stack as in Node. A UNIX path that exists is not removed (-EADDRINUSE).
int open_listener(const SockAddr& addr, int backlog, bool reuse_port, int* fd);
// A non-blocking connect, optionally bound first. EINPROGRESS counts as
// success: the caller learns the outcome from the writable event.
int open_connection(const SockAddr& addr, const SockAddr* bind_addr, int* fd);
// One accept, non-blocking and close-on-exec. Returns the fd or -errno.
int accept_one(int listen_fd);
// Whether a UNIX socket path has a live listener, asked the way the kernel
// answers: a non-blocking connect, closed at once. 0 when a listener took it,
// else the connect's -errno (-ECONNREFUSED: nobody listens; -EAGAIN: a full
// backlog, so someone does).
int probe_unix_listener(const std::string& path);

// SO_ERROR of a socket (the outcome of a non-blocking connect) as 0 or
// -errno, or getsockopt's own -errno.
int pending_error(int fd);
// setsockopt for an int flag; -ENOTSOCK for pipes.
int set_flag(int fd, int level, int name, bool on);
// Makes an fd we were given non-blocking and close-on-exec.
int prepare_adopted(int fd);
// Whether fd is an open stream socket of family (0 UNIX, 4, 6) that listens
// (listening) or has a peer (!listening). 0, or what is wrong: -EBADF closed,
// -ENOTSOCK not a socket, -EPROTOTYPE not a stream, -EAFNOSUPPORT another
// family, -EINVAL not listening, -ENOTCONN no peer.
int check_adoptable(int fd, int family, bool listening);
// check_adoptable, then a close-on-exec dup in *out: the caller's fd stays
// the caller's (Twisted's adoptStreamPort dups too).
int dup_adoptable(int fd, int family, bool listening, int* out);

}  // namespace sockets
}  // namespace ioreactor

#endif  // IOREACTOR_SOCKETS_H
