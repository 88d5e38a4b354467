// Socket creation helpers (see sockets.h). Linux has SOCK_NONBLOCK and
// accept4; elsewhere the flags are set right after creation, which is the
// best a platform without them allows.
#include "sockets.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "syscalls.h"

namespace ioreactor {
namespace sockets {

namespace {

int set_fd_flags(int fd) {
  int fl = ::fcntl(fd, F_GETFL);
  if (fl < 0 || ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
  int fdfl = ::fcntl(fd, F_GETFD);
  if (fdfl < 0 || ::fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) return -errno;
#ifdef SO_NOSIGPIPE
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
  return 0;
}

#ifndef SOCK_NONBLOCK
// For platforms without SOCK_NONBLOCK: flags set right after creation.
int with_fd_flags(int fd) {
  int err = set_fd_flags(fd);
  if (err == 0) return fd;
  ::close(fd);
  return err;
}
#endif

}  // namespace

int new_socket(int domain, int type) {
#ifdef SOCK_NONBLOCK
  int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  return fd < 0 ? -errno : fd;
#else
  int fd = ::socket(domain, type, 0);
  return fd < 0 ? -errno : with_fd_flags(fd);
#endif
}

bool is_v6_any(const struct sockaddr_storage& ss) {
  if (ss.ss_family != AF_INET6) return false;
  const auto& in6 = reinterpret_cast<const struct sockaddr_in6&>(ss);
  return IN6_IS_ADDR_UNSPECIFIED(&in6.sin6_addr);
}

namespace {

int parse_port(int port, uint16_t* out) {
  if (port < 0 || port > 65535) return -EINVAL;
  *out = htons(static_cast<uint16_t>(port));
  return 0;
}

int unix_sockaddr(const std::string& path, struct sockaddr_storage* out, socklen_t* len) {
  auto* un = reinterpret_cast<struct sockaddr_un*>(out);
  if (path.empty() || path.find('\0') != std::string::npos) return -EINVAL;
  if (path.size() >= sizeof un->sun_path) return -ENAMETOOLONG;
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  *len = static_cast<socklen_t>(offsetof(struct sockaddr_un, sun_path) + path.size() + 1);
  return 0;
}

// Options set before bind(); errors here are real (a bad SO_REUSEPORT is not
// silently ignored, the caller asked for it).
int listener_options(int fd, const struct sockaddr_storage& ss, bool reuse_port) {
  if (ss.ss_family == AF_UNIX) return 0;
  int err = set_flag(fd, SOL_SOCKET, SO_REUSEADDR, true);
#ifdef SO_REUSEPORT
  if (err == 0 && reuse_port) err = set_flag(fd, SOL_SOCKET, SO_REUSEPORT, true);
#else
  if (err == 0 && reuse_port) err = -ENOTSUP;
#endif
  if (err == 0 && is_v6_any(ss)) err = set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY, false);
  return err;
}

// Fills out from a binary address and a port in network order.
int numeric_host(int af, const void* addr, uint16_t port, SockAddr* out) {
  char buf[INET6_ADDRSTRLEN];
  if (::inet_ntop(af, addr, buf, sizeof buf) == nullptr) return -errno;
  out->family = af == AF_INET ? 4 : 6;
  out->host = buf;
  out->port = ntohs(port);
  return 0;
}

int fail(int fd, int err) {
  ::close(fd);
  return err;
}

}  // namespace

int to_sockaddr(const SockAddr& addr, struct sockaddr_storage* out, socklen_t* len) {
  std::memset(out, 0, sizeof *out);
  if (addr.family == 0) return unix_sockaddr(addr.host, out, len);
  if (addr.family == 4) {
    auto* in = reinterpret_cast<struct sockaddr_in*>(out);
    in->sin_family = AF_INET;
    if (::inet_pton(AF_INET, addr.host.c_str(), &in->sin_addr) != 1) return -EINVAL;
    *len = sizeof *in;
    return parse_port(addr.port, &in->sin_port);
  }
  if (addr.family == 6) {
    auto* in6 = reinterpret_cast<struct sockaddr_in6*>(out);
    in6->sin6_family = AF_INET6;
    if (::inet_pton(AF_INET6, addr.host.c_str(), &in6->sin6_addr) != 1) return -EINVAL;
    *len = sizeof *in6;
    return parse_port(addr.port, &in6->sin6_port);
  }
  return -EINVAL;
}

int from_sockaddr(const struct sockaddr* sa, socklen_t len, SockAddr* out) {
  // len says how many bytes the kernel (or a caller) filled: never read past
  // it, whatever the family field claims.
  const size_t have = static_cast<size_t>(len);
  if (have < offsetof(struct sockaddr, sa_family) + sizeof sa->sa_family) return -EINVAL;
  if (sa->sa_family == AF_INET) {
    if (have < sizeof(struct sockaddr_in)) return -EINVAL;
    const auto* in = reinterpret_cast<const struct sockaddr_in*>(sa);
    return numeric_host(AF_INET, &in->sin_addr, in->sin_port, out);
  }
  if (sa->sa_family == AF_INET6) {
    if (have < sizeof(struct sockaddr_in6)) return -EINVAL;
    const auto* in6 = reinterpret_cast<const struct sockaddr_in6*>(sa);
    return numeric_host(AF_INET6, &in6->sin6_addr, in6->sin6_port, out);
  }
  if (sa->sa_family == AF_UNIX) {
    const auto* un = reinterpret_cast<const struct sockaddr_un*>(sa);
    size_t off = offsetof(struct sockaddr_un, sun_path);
    size_t n = len > off ? static_cast<size_t>(len) - off : 0;
    out->family = 0;
    out->host.assign(un->sun_path, ::strnlen(un->sun_path, n));  // unnamed: ""
    out->port = 0;
    return 0;
  }
  return -EAFNOSUPPORT;
}

int open_listener(const SockAddr& addr, int backlog, bool reuse_port, int* fd_out) {
  struct sockaddr_storage ss;
  socklen_t len = 0;
  int err = to_sockaddr(addr, &ss, &len);
  if (err != 0) return err;
  int fd = new_socket(ss.ss_family, SOCK_STREAM);
  if (fd < 0) return fd;
  err = listener_options(fd, ss, reuse_port);
  if (err != 0) return fail(fd, err);
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&ss), len) < 0) return fail(fd, -errno);
  if (::listen(fd, backlog) < 0) return fail(fd, -errno);
  *fd_out = fd;
  return 0;
}

int open_connection(const SockAddr& addr, const SockAddr* bind_addr, int* fd_out) {
  struct sockaddr_storage ss, bs;
  socklen_t len = 0, blen = 0;
  int err = to_sockaddr(addr, &ss, &len);
  if (err == 0 && bind_addr != nullptr) err = to_sockaddr(*bind_addr, &bs, &blen);
  if (err != 0) return err;
  if (bind_addr != nullptr && bs.ss_family != ss.ss_family) return -EINVAL;
  int fd = new_socket(ss.ss_family, SOCK_STREAM);
  if (fd < 0) return fd;
  if (bind_addr != nullptr && ::bind(fd, reinterpret_cast<struct sockaddr*>(&bs), blen) < 0) {
    return fail(fd, -errno);
  }
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&ss), len);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno != EINPROGRESS) return fail(fd, -errno);
  *fd_out = fd;
  return 0;
}

int probe_unix_listener(const std::string& path) {
  SockAddr addr;
  addr.family = 0;
  addr.host = path;
  int fd = -1;
  int err = open_connection(addr, nullptr, &fd);
  if (err == 0) ::close(fd);
  return err;
}

int accept_one(int listen_fd) {
#ifdef SOCK_NONBLOCK
  int fd = sys::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
  return fd < 0 ? -errno : fd;
#else
  int fd = sys::accept(listen_fd, nullptr, nullptr);
  return fd < 0 ? -errno : with_fd_flags(fd);
#endif
}

int pending_error(int fd) {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return -errno;
  return -err;
}

int set_flag(int fd, int level, int name, bool on) {
  int v = on ? 1 : 0;
  return ::setsockopt(fd, level, name, &v, sizeof v) < 0 ? -errno : 0;
}

int prepare_adopted(int fd) { return set_fd_flags(fd); }

namespace {

int af_of(int family) { return family == 0 ? AF_UNIX : family == 6 ? AF_INET6 : AF_INET; }

// 0 when fd is a stream socket of `family`, else what is wrong with it.
int check_kind(int fd, int family) {
  int type = 0;
  socklen_t len = sizeof type;
  // A closed fd says EBADF, a pipe or file ENOTSOCK: both are the answer.
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) return -errno;
  if (type != SOCK_STREAM) return -EPROTOTYPE;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &sl) < 0) return -errno;
  return ss.ss_family == af_of(family) ? 0 : -EAFNOSUPPORT;
}

}  // namespace

int check_adoptable(int fd, int family, bool listening) {
  if (fd < 0) return -EBADF;
  int err = check_kind(fd, family);
  if (err != 0) return err;
  if (listening) {
    int on = 0;
    socklen_t len = sizeof on;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) < 0) return -errno;
    return on != 0 ? 0 : -EINVAL;
  }
  // A connection has a peer; a listening or never-connected socket has none.
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  return ::getpeername(fd, reinterpret_cast<struct sockaddr*>(&ss), &sl) < 0 ? -errno : 0;
}

int dup_adoptable(int fd, int family, bool listening, int* out) {
  int err = check_adoptable(fd, family, listening);
  if (err != 0) return err;
  int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (own < 0) return -errno;
  *out = own;
  return 0;
}

}  // namespace sockets
}  // namespace ioreactor
