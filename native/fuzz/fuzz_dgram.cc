// Fuzz target: UDP receive and its datagram encoding (dgram::recv_batch, the
// header layout in dgram.h), over real loopback sockets.
//
// The input chooses the receiver (IPv4 or a dual-stack IPv6 socket reached
// from IPv4 or IPv6), batch or single receive, max_packet, the buffer room and
// max_count, then a list of datagrams (length and payload bytes). They are
// sent, then received until all are back; every one must decode to the right
// family, sender port and address, the payload's first max_packet bytes, the
// truncated flag exactly when it was longer, and sit inside `used` and `room`
// without overlapping the one before.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "dgram.h"
#include "fuzz_common.h"

using namespace ioreactor;
using fuzz::Input;
using fuzz::require;

namespace {

// Sockets made once per process: two receivers, two senders.
struct Sockets {
  int rx4 = dgram::open_bound(SockAddr{4, "127.0.0.1", 0});
  int rx6 = dgram::open_bound(SockAddr{6, "::", 0});
  int tx4 = dgram::open_bound(SockAddr{4, "127.0.0.1", 0});
  int tx6 = dgram::open_bound(SockAddr{6, "::1", 0});
  int port(int fd) const {
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len);
    return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<struct sockaddr_in&>(ss).sin_port)
                                   : ntohs(reinterpret_cast<struct sockaddr_in6&>(ss).sin6_port);
  }
};

const Sockets& sockets() {
  static Sockets s;
  require(s.rx4 >= 0 && s.rx6 >= 0 && s.tx4 >= 0 && s.tx6 >= 0, "socket setup");
  return s;
}

struct Plan {
  int rx = -1, tx = -1;
  int want_family = 4;           // what the header must say
  uint8_t want_addr[16] = {0};   // the sender as the receiver sees it
  size_t addr_len = 4;
  size_t max_packet = 1;
  size_t room = 0;
  int max_count = 1;
  dgram::RecvMode mode = dgram::RecvMode::kBatch;
};

Plan make_plan(Input& in) {
  const Sockets& s = sockets();
  Plan p;
  uint8_t how = in.byte();
  int route = how % 3;  // 0: v4 -> v4, 1: v4 -> dual-stack v6 (mapped), 2: v6 -> v6
  p.mode = (how & 4) != 0 ? dgram::RecvMode::kSingle : dgram::RecvMode::kBatch;
  p.rx = route == 0 ? s.rx4 : s.rx6;
  p.tx = route == 2 ? s.tx6 : s.tx4;
  p.want_family = route == 0 ? 4 : 6;
  p.addr_len = route == 0 ? 4 : 16;
  if (route == 0) {
    ::inet_pton(AF_INET, "127.0.0.1", p.want_addr);
  } else {
    ::inet_pton(AF_INET6, route == 1 ? "::ffff:127.0.0.1" : "::1", p.want_addr);
  }
  p.max_packet = 1 + in.u16() % 3000;
  p.room = in.u16() % 200000;
  p.max_count = 1 + in.byte() % 80;
  return p;
}

void drain(int fd) {
  uint8_t buf[70000];
  while (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) {
  }
}

// Checks one received datagram against what was sent.
void check_one(const Plan& p, const uint8_t* buf, const dgram::Received& r, const std::string& sent,
               int tx_port) {
  const uint8_t* h = buf + r.offset;
  require(h[0] == p.want_family, "family");
  bool trunc = sent.size() > p.max_packet;
  require(((h[1] & dgram::kTruncated) != 0) == trunc, "truncated flag");
  require(((h[2] << 8) | h[3]) == tx_port, "sender port");
  require(std::memcmp(h + 4, p.want_addr, p.addr_len) == 0, "sender address");
  require(r.length == std::min(sent.size(), p.max_packet), "payload length");
  size_t hs = dgram::header_size(p.want_family);
  require(std::memcmp(h + hs, sent.data(), r.length) == 0, "payload bytes");
}

void run(Input& in) {
  const Sockets& s = sockets();
  Plan p = make_plan(in);
  drain(p.rx);
  bool from_v4 = p.tx == s.tx4;  // an IPv4 socket reaches the dual-stack one over 127.0.0.1
  SockAddr dest{from_v4 ? 4 : 6, from_v4 ? "127.0.0.1" : "::1", 0};
  dest.port = s.port(p.rx);
  std::vector<std::string> sent;
  // At most 16 x 3000 bytes in flight: well inside the default receive buffer,
  // so loopback never drops one.
  for (int i = 0; i < 16 && in.left() > 0; ++i) {
    std::string payload = in.take(in.u16() % 3000);
    if (dgram::send_to(p.tx, reinterpret_cast<const uint8_t*>(payload.data()), payload.size(), &dest) < 0) break;
    sent.push_back(std::move(payload));
  }
  std::vector<uint8_t> buf(p.room + 1);
  std::vector<dgram::Received> got(static_cast<size_t>(p.max_count));
  size_t next = 0;
  int tx_port = s.port(p.tx);
  for (int tries = 0; next < sent.size() && tries < 10000; ++tries) {
    size_t used = 0;
    int n = dgram::recv_batch(p.rx, buf.data(), p.room, p.max_packet, p.mode, got.data(), p.max_count, &used);
    require(n >= 0, "recv_batch failed");
    require(used <= p.room && n <= p.max_count, "used or count out of range");
    size_t end = 0;
    for (int i = 0; i < n; ++i) {
      require(got[i].offset >= end, "overlapping datagrams");
      end = got[i].offset + dgram::header_size(p.want_family) + got[i].length;
      require(end <= used, "datagram past used");
      require(next < sent.size(), "more datagrams than sent");
      check_one(p, buf.data(), got[i], sent[next++], tx_port);
    }
    if (n == 0 && p.room < dgram::kMaxHeader + p.max_packet) return;  // cannot fit one: fine
  }
  require(next == sent.size(), "datagrams lost on loopback");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  run(in);
  return 0;
}
