// Fuzz target: address conversion (sockets::to_sockaddr / from_sockaddr), the
// numeric host parsing every listen/connect/UDP send goes through.
//
// Mode 0: a SockAddr from the input (any family number, any port, any host
// bytes, NULs included). Converting must either fail with EINVAL or
// ENAMETOOLONG, or give a sockaddr that converts back to the same family and
// port (and the same path for UNIX), and whose numeric host converts to the
// very same bytes again (a fixed point: inet_ntop's canonical form).
// Mode 1: raw sockaddr bytes of any length, copied into a buffer of exactly
// that length, so a read past `len` is an ASan report.
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "sockets.h"

using namespace ioreactor;
using fuzz::require;

namespace {

void round_trip(const uint8_t* data, size_t size) {
  if (size < 5) return;
  static const int kFamilies[] = {0, 4, 6, 5, -1};
  SockAddr addr;
  addr.family = kFamilies[data[0] % 5];
  int32_t port;
  std::memcpy(&port, data + 1, sizeof port);
  addr.port = (data[0] & 0x80) != 0 ? port : static_cast<int>(static_cast<uint32_t>(port) % 70000);
  addr.host.assign(reinterpret_cast<const char*>(data + 5), size - 5);

  struct sockaddr_storage ss;
  socklen_t len = 0;
  int err = sockets::to_sockaddr(addr, &ss, &len);
  if (err != 0) {
    require(err == -EINVAL || err == -ENAMETOOLONG, "unexpected errno from to_sockaddr");
    return;
  }
  require(len > 0 && len <= sizeof ss, "length out of range");
  SockAddr back;
  require(sockets::from_sockaddr(reinterpret_cast<struct sockaddr*>(&ss), len, &back) == 0,
          "a converted address does not convert back");
  require(back.family == addr.family, "family changed");
  if (addr.family == 0) {
    require(back.host == addr.host, "UNIX path changed");
    return;
  }
  require(back.port == addr.port, "port changed");
  struct sockaddr_storage again;
  socklen_t again_len = 0;
  require(sockets::to_sockaddr(back, &again, &again_len) == 0, "canonical host rejected");
  require(again_len == len && std::memcmp(&again, &ss, len) == 0, "not a fixed point");
}

void from_raw(const uint8_t* data, size_t size) {
  size_t len = size < sizeof(struct sockaddr_storage) ? size : sizeof(struct sockaddr_storage);
  std::vector<uint8_t> exact(data, data + len);  // exactly len bytes: overreads are reported
  if (exact.empty()) return;
  SockAddr out;
  int err = sockets::from_sockaddr(reinterpret_cast<const struct sockaddr*>(exact.data()),
                                   static_cast<socklen_t>(len), &out);
  if (err != 0) return;
  require(out.family == 0 || out.family == 4 || out.family == 6, "bad family out");
  require(out.port >= 0 && out.port <= 65535, "bad port out");
  if (out.family != 0) {
    SockAddr copy = out;
    struct sockaddr_storage ss;
    socklen_t sl = 0;
    require(sockets::to_sockaddr(copy, &ss, &sl) == 0, "a decoded host does not parse");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if ((data[0] & 1) == 0) {
    round_trip(data + 1, size - 1);
  } else {
    from_raw(data + 1, size - 1);
  }
  return 0;
}
