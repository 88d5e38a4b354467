// dgram.cc tests on loopback: bind to port 0, send and batched receive in both
// modes with the sender address decoded from the encoding, truncation, empty
// datagrams, dual-stack, ECONNREFUSED on a connected socket, bad input. The
// last case prints recvmmsg against one recvmsg per datagram (information,
// not a pass/fail check: the machine is shared).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "dgram.h"
#include "net.h"

using namespace ioreactor;
using namespace ioreactor::dgram;

namespace {

int bound_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<struct sockaddr*>(&ss), &len);
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<struct sockaddr_in&>(ss).sin_port);
  return ntohs(reinterpret_cast<struct sockaddr_in6&>(ss).sin6_port);
}

bool wait_readable(int fd) {
  struct pollfd p = {fd, POLLIN, 0};
  return poll(&p, 1, 5000) == 1;
}

// A decoded datagram as JS will see it.
struct Seen {
  int family;
  bool truncated;
  int port;
  std::string host;
  std::string payload;
};

Seen decode(const uint8_t* buf, const Received& r) {
  const uint8_t* h = buf + r.offset;
  Seen s;
  s.family = h[0];
  s.truncated = (h[1] & kTruncated) != 0;
  s.port = (h[2] << 8) | h[3];
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(s.family == 4 ? AF_INET : AF_INET6, h + 4, text, sizeof text);
  s.host = text;
  const char* p = reinterpret_cast<const char*>(h + header_size(s.family));
  s.payload.assign(p, r.length);
  return s;
}

std::vector<Seen> receive(int fd, RecvMode mode, size_t max_packet, int max_count = 64) {
  std::vector<uint8_t> buf(256 * 1024);
  Received out[64];
  size_t used = 0;
  std::vector<Seen> seen;
  if (!wait_readable(fd)) return seen;
  int n = recv_batch(fd, buf.data(), buf.size(), max_packet, mode, out, max_count, &used);
  for (int i = 0; i < n; ++i) seen.push_back(decode(buf.data(), out[i]));
  return seen;
}

void send_str(int fd, const std::string& s, const SockAddr* to) {
  check::eq(send_to(fd, reinterpret_cast<const uint8_t*>(s.data()), s.size(), to),
            static_cast<long long>(s.size()), "send " + std::to_string(s.size()) + " bytes");
}

void test_bind_send_receive(RecvMode mode) {
  int a = open_bound(addr(4, "127.0.0.1", 0));
  int b = open_bound(addr(4, "127.0.0.1", 0));
  check::that(a >= 0 && b >= 0, "bound");
  check::that(bound_port(a) > 0, "port 0 picked a port");
  check::that((fcntl(a, F_GETFD) & FD_CLOEXEC) != 0, "close-on-exec");
  SockAddr to = addr(4, "127.0.0.1", bound_port(a));
  send_str(b, "one", &to);
  send_str(b, "", &to);
  send_str(b, std::string(1000, 'x'), &to);
  std::vector<Seen> got = receive(a, mode, 8192);
  if (check::eq(static_cast<long long>(got.size()), 3, "three datagrams")) {
    check::that(got[0].payload == "one", "first payload");
    check::eq(got[1].payload.size(), 0, "empty datagram delivered");
    check::that(got[2].payload == std::string(1000, 'x'), "third payload");
    check::eq(got[0].family, 4, "family 4");
    check::that(got[0].host == "127.0.0.1", "sender host");
    check::eq(got[0].port, bound_port(b), "sender port");
    check::that(!got[0].truncated, "not truncated");
  }
  close(a);
  close(b);
}

void test_batch() { test_bind_send_receive(RecvMode::kBatch); }
void test_single() { test_bind_send_receive(RecvMode::kSingle); }

void test_truncation_and_room() {
  int a = open_bound(addr(4, "127.0.0.1", 0));
  int b = open_bound(addr(4, "127.0.0.1", 0));
  SockAddr to = addr(4, "127.0.0.1", bound_port(a));
  send_str(b, std::string(100, 'y'), &to);
  for (int i = 0; i < 5; ++i) send_str(b, "z", &to);
  std::vector<Seen> got = receive(a, RecvMode::kBatch, 16, 1);
  if (check::eq(static_cast<long long>(got.size()), 1, "max_count honoured")) {
    check::eq(got[0].payload.size(), 16, "truncated to max_packet");
    check::that(got[0].truncated, "truncated flag");
  }
  // Room for two strides only: two datagrams, the rest stay queued.
  std::vector<uint8_t> buf(2 * (kMaxHeader + 16) + 5);
  Received out[8];
  size_t used = 0;
  check::eq(recv_batch(a, buf.data(), buf.size(), 16, RecvMode::kBatch, out, 8, &used), 2, "room honoured");
  check::eq(static_cast<long long>(used), 2 * (kHeader4 + 1), "packed back to back");
  check::eq(static_cast<long long>(receive(a, RecvMode::kSingle, 16).size()), 3, "the rest still queued");
  check::eq(recv_batch(a, buf.data(), buf.size(), 16, RecvMode::kBatch, out, 8, &used), 0, "empty: 0");
  close(a);
  close(b);
}

void test_dual_stack() {
  int a = open_bound(addr(6, "::", 0));
  if (a < 0) {
    std::printf("  (no IPv6: %s)\n", std::strerror(-a));
    return;
  }
  int b = open_bound(addr(4, "127.0.0.1", 0));
  SockAddr to = addr(4, "127.0.0.1", bound_port(a));
  send_str(b, "v4 to ::", &to);
  std::vector<Seen> got = receive(a, RecvMode::kBatch, 8192);
  if (check::eq(static_cast<long long>(got.size()), 1, "received on ::")) {
    check::eq(got[0].family, 6, "family 6");
    check::that(got[0].host == "::ffff:127.0.0.1", "mapped sender: " + got[0].host);
  }
  // And back: an IPv4 destination from the dual-stack socket.
  SockAddr back = addr(4, "127.0.0.1", bound_port(b));
  send_str(a, "reply", &back);
  got = receive(b, RecvMode::kBatch, 8192);
  check::that(got.size() == 1 && got[0].payload == "reply", "v4 reply from ::");
  close(a);
  close(b);
  int c = open_bound(addr(6, "::1", 0));
  int d = open_bound(addr(6, "::1", 0));
  if (c >= 0 && d >= 0) {
    SockAddr to6 = addr(6, "::1", bound_port(c));
    send_str(d, "v6", &to6);
    got = receive(c, RecvMode::kSingle, 8192);
    check::that(got.size() == 1 && got[0].host == "::1" && got[0].port == bound_port(d), "::1 sender");
  }
  if (c >= 0) close(c);
  if (d >= 0) close(d);
}

void test_connected_refused() {
  int gone = open_bound(addr(4, "127.0.0.1", 0));
  int port = bound_port(gone);
  close(gone);
  int a = open_bound(addr(4, "127.0.0.1", 0));
  check::eq(connect_to(a, addr(4, "127.0.0.1", port)), 0, "connect");
  send_str(a, "anyone?", nullptr);
  check::that(wait_readable(a), "the ICMP error wakes the socket");
  std::vector<uint8_t> buf(64 * 1024);
  Received out[4];
  size_t used = 0;
  check::eq(recv_batch(a, buf.data(), buf.size(), 8192, RecvMode::kBatch, out, 4, &used), -ECONNREFUSED,
            "ECONNREFUSED reported");
  check::eq(recv_batch(a, buf.data(), buf.size(), 8192, RecvMode::kBatch, out, 4, &used), 0,
            "reported once");
  check::eq(connect_to(a, addr(4, "", 0)), 0, "disconnect");
  uint8_t x = 1;
  check::eq(send_to(a, &x, 1, nullptr), -EDESTADDRREQ, "send without a destination after disconnect");
  close(a);
}

void test_bad_input() {
  check::eq(open_bound(addr(5, "127.0.0.1", 0)), -EINVAL, "bad family");
  check::eq(open_bound(addr(4, "not-an-ip", 0)), -EINVAL, "hostname refused");
  check::eq(open_bound(addr(4, "127.0.0.1", 70000)), -EINVAL, "bad port");
  check::eq(open_bound(addr(4, "::1", 0)), -EINVAL, "v6 host as family 4");
  int a = open_bound(addr(4, "127.0.0.1", 0));
  uint8_t x = 1;
  SockAddr v6 = addr(6, "::1", 9);
  check::that(send_to(a, &x, 1, &v6) < 0, "v6 destination on a v4 socket fails");
  check::eq(connect_to(a, addr(7, "1.2.3.4", 1)), -EINVAL, "connect: bad family");
  std::vector<uint8_t> buf(1024);
  Received out[1];
  size_t used = 0;
  check::eq(recv_batch(a, buf.data(), buf.size(), 0, RecvMode::kBatch, out, 1, &used), -EINVAL, "max_packet 0");
  check::eq(recv_batch(a, buf.data(), buf.size(), 1 << 20, RecvMode::kBatch, out, 1, &used), -EINVAL,
            "max_packet too large");
  int big = open_bound(addr(4, "127.0.0.1", 0));
  std::vector<uint8_t> huge(70000);
  SockAddr to = addr(4, "127.0.0.1", bound_port(big));
  check::eq(send_to(a, huge.data(), huge.size(), &to), -EMSGSIZE, "too long: EMSGSIZE");
  close(a);
  close(big);
}

// Sends `count` small datagrams, then drains them with one mode; ns/datagram.
double drain_cost(RecvMode mode, int count) {
  int a = open_bound(addr(4, "127.0.0.1", 0));
  int b = open_bound(addr(4, "127.0.0.1", 0));
  int size = 4 * 1024 * 1024;
  setsockopt(a, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  SockAddr to = addr(4, "127.0.0.1", bound_port(a));
  uint8_t payload[64] = {};
  for (int i = 0; i < count; ++i) send_to(b, payload, sizeof payload, &to);
  std::vector<uint8_t> buf(256 * 1024);
  Received out[64];
  int got = 0;
  auto start = std::chrono::steady_clock::now();
  for (;;) {
    size_t used = 0;
    int n = recv_batch(a, buf.data(), buf.size(), 2048, mode, out, 64, &used);
    if (n <= 0) break;
    got += n;
  }
  double ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  close(a);
  close(b);
  return got > 0 ? ns / got : 0;
}

void test_report_batch_gain() {
  double batch = 1e18, single = 1e18;
  for (int round = 0; round < 5; ++round) {
    batch = std::min(batch, drain_cost(RecvMode::kBatch, 5000));
    single = std::min(single, drain_cost(RecvMode::kSingle, 5000));
  }
  std::printf("  drain of 5000 x 64 B: recvmmsg %.0f ns/datagram, recvmsg %.0f ns/datagram (x%.2f)\n",
              batch, single, batch > 0 ? single / batch : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all(
      {
          {"bind send receive (recvmmsg)", test_batch},
          {"bind send receive (recvmsg)", test_single},
          {"truncation and room", test_truncation_and_room},
          {"dual stack and IPv6", test_dual_stack},
          {"connected ECONNREFUSED", test_connected_refused},
          {"bad input", test_bad_input},
          {"recvmmsg against recvmsg", test_report_batch_gain},
      },
      argc, argv);
}
