// Address conversion (sockets::to_sockaddr / from_sockaddr): round trips to
// the canonical numeric form, and lengths shorter than the family needs are
// refused without reading past them (found by native/fuzz/fuzz_sockaddr.cc).
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "check.h"
#include "sockets.h"

using namespace ioreactor;

namespace {

// Converts there and back; returns the address that came back.
SockAddr round_trip(const SockAddr& in) {
  sockaddr_storage ss;
  socklen_t len = 0;
  SockAddr out;
  if (!check::eq(sockets::to_sockaddr(in, &ss, &len), 0, "to_sockaddr " + in.host)) return out;
  check::eq(sockets::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len, &out), 0, "from_sockaddr");
  return out;
}

void test_round_trips() {
  check::that(round_trip(SockAddr{4, "127.0.0.1", 80}).host == "127.0.0.1", "IPv4");
  SockAddr v6 = round_trip(SockAddr{6, "0:0:0:0:0:0:0:1", 65535});
  check::that(v6.host == "::1" && v6.port == 65535 && v6.family == 6, "IPv6 canonical form");
  check::that(round_trip(SockAddr{0, "/tmp/x.sock", 0}).host == "/tmp/x.sock", "UNIX path");
  sockaddr_storage ss;
  socklen_t len = 0;
  check::eq(sockets::to_sockaddr(SockAddr{4, "1.2.3", 1}, &ss, &len), -EINVAL, "short dotted quad");
  check::eq(sockets::to_sockaddr(SockAddr{4, "1.2.3.4", 65536}, &ss, &len), -EINVAL, "port too big");
  check::eq(sockets::to_sockaddr(SockAddr{0, std::string(200, 'a'), 0}, &ss, &len), -ENAMETOOLONG, "long path");
  check::eq(sockets::to_sockaddr(SockAddr{0, std::string("a\0b", 3), 0}, &ss, &len), -EINVAL, "NUL in path");
}

// Each family's bytes, cut one short, in a buffer of exactly that size.
void refuses_short(const sockaddr_storage& full, size_t need, const char* what) {
  std::unique_ptr<uint8_t[]> exact(new uint8_t[need - 1]);
  std::memcpy(exact.get(), &full, need - 1);
  SockAddr out;
  check::eq(sockets::from_sockaddr(reinterpret_cast<sockaddr*>(exact.get()),
                                   static_cast<socklen_t>(need - 1), &out),
            -EINVAL, what);
}

void test_short_lengths_refused() {
  sockaddr_storage ss;
  socklen_t len = 0;
  sockets::to_sockaddr(SockAddr{4, "10.0.0.1", 1}, &ss, &len);
  refuses_short(ss, sizeof(sockaddr_in), "IPv4 one byte short");
  sockets::to_sockaddr(SockAddr{6, "::1", 1}, &ss, &len);
  refuses_short(ss, sizeof(sockaddr_in6), "IPv6 one byte short");
  refuses_short(ss, offsetof(sockaddr, sa_family) + sizeof(sa_family_t), "no room for the family");
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all({{"round trips", test_round_trips},
                         {"short lengths refused", test_short_lengths_refused}},
                        argc, argv);
}
