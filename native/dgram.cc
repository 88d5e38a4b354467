// UDP helpers (see dgram.h for the encoding). Addresses go through
// sockets::to_sockaddr/from_sockaddr, shared with the stream code.
//
// Batched receive: recvmmsg lands each datagram at a fixed stride (header
// room + max_packet), then each is moved down to sit right after the one
// before, so a batch of small datagrams uses little of the slab however large
// max_packet is. Linux lets an IPv6 socket that is not V6ONLY send to and
// connect to an IPv4 address directly, which is what "::" sockets rely on.
#include "dgram.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "sockets.h"

namespace ioreactor {
namespace dgram {

namespace {

constexpr int kMaxBatch = 64;

// Writes the header for a sender address; returns its size, 0 for a family
// we cannot encode.
size_t encode_header(const struct sockaddr_storage& from, bool truncated, uint8_t* out) {
  out[1] = truncated ? kTruncated : 0;
  if (from.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const struct sockaddr_in&>(from);
    out[0] = 4;
    std::memcpy(out + 2, &in.sin_port, 2);  // already big-endian
    std::memcpy(out + 4, &in.sin_addr, 4);
    return kHeader4;
  }
  if (from.ss_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const struct sockaddr_in6&>(from);
    out[0] = 6;
    std::memcpy(out + 2, &in6.sin6_port, 2);
    std::memcpy(out + 4, &in6.sin6_addr, 16);
    return kHeader6;
  }
  return 0;
}

// Moves datagram i (payload at `payload`, `len` bytes) down to buf + *used,
// header first. Returns false for an unencodable sender (dropped).
bool pack_one(const struct sockaddr_storage& from, bool truncated, const uint8_t* payload,
              size_t len, uint8_t* buf, size_t* used, Received* out) {
  uint8_t header[kMaxHeader];
  size_t h = encode_header(from, truncated, header);
  if (h == 0) return false;
  uint8_t* dst = buf + *used;
  std::memmove(dst + h, payload, len);
  std::memcpy(dst, header, h);
  out->offset = static_cast<uint32_t>(*used);
  out->length = static_cast<uint32_t>(len);
  *used += h + len;
  return true;
}

#ifdef __linux__
int recv_mmsg(int fd, uint8_t* buf, size_t stride, size_t max_packet, Received* out, int n,
              size_t* used) {
  struct mmsghdr msgs[kMaxBatch];
  struct iovec iovs[kMaxBatch];
  struct sockaddr_storage from[kMaxBatch];
  std::memset(msgs, 0, sizeof(struct mmsghdr) * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    iovs[i].iov_base = buf + static_cast<size_t>(i) * stride + kMaxHeader;
    iovs[i].iov_len = max_packet;
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  int got;
  do {
    got = ::recvmmsg(fd, msgs, static_cast<unsigned>(n), MSG_DONTWAIT, nullptr);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  int count = 0;
  for (int i = 0; i < got; ++i) {
    bool trunc = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
    size_t len = std::min<size_t>(msgs[i].msg_len, max_packet);
    if (pack_one(from[i], trunc, static_cast<uint8_t*>(iovs[i].iov_base), len, buf, used, &out[count])) ++count;
  }
  return count;
}
#endif

// One recvmsg, payload straight after the largest header; -errno, 0 for
// nothing waiting, 1 for one datagram (or a dropped unencodable one: 2).
int recv_one(int fd, uint8_t* buf, size_t max_packet, size_t* used, Received* out) {
  struct sockaddr_storage from;
  struct iovec iov;
  iov.iov_base = buf + *used + kMaxHeader;
  iov.iov_len = max_packet;
  struct msghdr msg;
  std::memset(&msg, 0, sizeof msg);
  msg.msg_name = &from;
  msg.msg_namelen = sizeof from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  do {
    n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno;
  bool trunc = (msg.msg_flags & MSG_TRUNC) != 0;
  size_t len = std::min<size_t>(static_cast<size_t>(n), max_packet);
  return pack_one(from, trunc, static_cast<uint8_t*>(iov.iov_base), len, buf, used, out) ? 1 : 2;
}

int recv_singles(int fd, uint8_t* buf, size_t room, size_t max_packet, Received* out, int n,
                 size_t* used) {
  int count = 0;
  for (int tries = 0; tries < n && room - *used >= kMaxHeader + max_packet; ++tries) {
    int rc = recv_one(fd, buf, max_packet, used, &out[count]);
    if (rc < 0) return count > 0 ? count : rc;  // the error shows again next read
    if (rc == 0) break;
    if (rc == 1) ++count;
  }
  return count;
}

}  // namespace

size_t header_size(int family) {
  return family == 4 ? kHeader4 : family == 6 ? kHeader6 : 0;
}

int open_bound(const SockAddr& addr) {
  struct sockaddr_storage ss;
  socklen_t len = 0;
  if (addr.family != 4 && addr.family != 6) return -EINVAL;
  int err = sockets::to_sockaddr(addr, &ss, &len);
  if (err != 0) return err;
  int fd = sockets::new_socket(ss.ss_family, SOCK_DGRAM);
  if (fd < 0) return fd;
  if (sockets::is_v6_any(ss)) err = sockets::set_flag(fd, IPPROTO_IPV6, IPV6_V6ONLY, false);
  if (err == 0 && ::bind(fd, reinterpret_cast<struct sockaddr*>(&ss), len) < 0) err = -errno;
  if (err != 0) {
    ::close(fd);
    return err;
  }
  return fd;
}

int connect_to(int fd, const SockAddr& peer) {
  struct sockaddr_storage ss;
  socklen_t len = 0;
  if (peer.host.empty()) {
    std::memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNSPEC;
    len = sizeof ss;
  } else {
    if (peer.family != 4 && peer.family != 6) return -EINVAL;
    int err = sockets::to_sockaddr(peer, &ss, &len);
    if (err != 0) return err;
  }
  int rc;
  do {
    rc = ::connect(fd, reinterpret_cast<struct sockaddr*>(&ss), len);
  } while (rc < 0 && errno == EINTR);
  return rc < 0 ? -errno : 0;
}

int64_t send_to(int fd, const uint8_t* data, size_t len, const SockAddr* dest) {
  struct sockaddr_storage ss;
  socklen_t sl = 0;
  if (dest != nullptr) {
    if (dest->family != 4 && dest->family != 6) return -EINVAL;
    int err = sockets::to_sockaddr(*dest, &ss, &sl);
    if (err != 0) return err;
  }
  ssize_t n;
  do {
    n = ::sendto(fd, data, len, MSG_DONTWAIT, dest != nullptr ? reinterpret_cast<struct sockaddr*>(&ss) : nullptr, sl);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : static_cast<int64_t>(n);
}

int recv_batch(int fd, uint8_t* buf, size_t room, size_t max_packet, RecvMode mode,
               Received* out, int max_count, size_t* used) {
  *used = 0;
  if (buf == nullptr || out == nullptr || max_packet == 0 || max_packet > kMaxPacket) return -EINVAL;
  size_t stride = kMaxHeader + max_packet;
  int n = std::min<int>({max_count, kMaxBatch, static_cast<int>(std::min<size_t>(room / stride, kMaxBatch))});
  if (n <= 0) return 0;
#ifdef __linux__
  if (mode == RecvMode::kBatch) return recv_mmsg(fd, buf, stride, max_packet, out, n, used);
#else
  (void)mode;
#endif
  return recv_singles(fd, buf, room, max_packet, out, n, used);
}

}  // namespace dgram
}  // namespace ioreactor
