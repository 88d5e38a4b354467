// What the loop tests share: a vector-backed LoopSink that keeps every
// record and every slab (so a test can check that bytes handed out were never
// overwritten) with a hook to act from inside deliver() the way JS does, a
// loop over it, and connected pairs on 127.0.0.1 (port 0).
#ifndef IOREACTOR_TEST_LOOP_ENV_H
#define IOREACTOR_TEST_LOOP_ENV_H

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "check.h"
#include "loop.h"
#include "net.h"

namespace loop_env {

using namespace ioreactor;
using Clock = std::chrono::steady_clock;

inline uint64_t key(int32_t slot, int32_t gen) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(gen)) << 32) | static_cast<uint32_t>(slot);
}

struct Sink : LoopSink {
  struct Held {
    const uint8_t* at;
    std::string copy;
  };
  std::vector<std::unique_ptr<uint8_t[]>> slabs;
  uint8_t* current = nullptr;
  std::vector<Record> records;
  std::map<uint64_t, std::string> data;  // (slot, gen) -> bytes received
  std::vector<Held> held;
  std::function<void(const Record*, int)> hook;

  uint8_t* new_slab(size_t size) override {
    slabs.emplace_back(new uint8_t[size]);
    current = slabs.back().get();
    std::memset(current, 0xEE, size);
    return current;
  }
  void deliver(const Record* recs, int count) override {
    for (int i = 0; i < count; ++i) {
      const Record& r = recs[i];
      records.push_back(r);
      if (r.type != kRecData) continue;
      std::string bytes(reinterpret_cast<const char*>(current + r.a), static_cast<size_t>(r.b));
      data[key(r.slot, r.gen)] += bytes;
      held.push_back({current + r.a, std::move(bytes)});
    }
    if (hook) hook(recs, count);
  }
  // Records of a type for a registration (gen < 0: any generation).
  int count(int32_t type, int32_t slot, int32_t gen = -1) const {
    int n = 0;
    for (const Record& r : records) {
      if (r.type == type && r.slot == slot && (gen < 0 || r.gen == gen)) ++n;
    }
    return n;
  }
  const Record* find(int32_t type, int32_t slot) const {
    for (const Record& r : records) {
      if (r.type == type && r.slot == slot) return &r;
    }
    return nullptr;
  }
  // Every byte handed out is still what it was when delivered.
  bool slabs_intact() const {
    for (const Held& h : held) {
      if (std::memcmp(h.at, h.copy.data(), h.copy.size()) != 0) return false;
    }
    return true;
  }
};

struct Env {
  Sink sink;
  std::unique_ptr<Loop> loop;
  explicit Env(Backend b) {
    int err = 0;
    loop = Loop::create(b, &sink, &err);
    check::that(loop != nullptr, "Loop::create: " + std::to_string(err));
  }
  std::string got(int32_t slot) { return sink.data[key(slot, static_cast<int32_t>(loop->generation(slot)))]; }
  // Polls until pred() holds or ms pass; returns pred().
  bool pump(const std::function<bool()>& pred, int ms = 3000) {
    auto end = Clock::now() + std::chrono::milliseconds(ms);
    while (!pred() && Clock::now() < end) loop->poll_once(20);
    return pred();
  }
};

inline int listen_local(Env& env, int32_t* listener) {
  int rc = env.loop->listen(addr(4, "127.0.0.1", 0), 1024, false, listener);
  check::eq(rc, 0, "listen 127.0.0.1:0");
  SockAddr local;
  check::eq(env.loop->local_address(*listener, &local), 0, "local_address");
  check::that(local.family == 4 && local.host == "127.0.0.1" && local.port > 0, "bound address");
  return local.port;
}

// A connected pair through the loop: client from connect(), server from accept.
inline bool tcp_pair(Env& env, int32_t* listener, int32_t* client, int32_t* server) {
  int port = listen_local(env, listener);
  if (!check::eq(env.loop->connect(addr(4, "127.0.0.1", port), nullptr, client), 0, "connect")) {
    return false;
  }
  bool ok = env.pump([&] {
    return env.sink.find(kRecConnected, *client) && env.sink.find(kRecAccepted, *listener);
  });
  if (!check::that(ok, "connected and accepted")) return false;
  const Record* c = env.sink.find(kRecConnected, *client);
  check::eq(c->a, 0, "connect succeeded");
  const Record* a = env.sink.find(kRecAccepted, *listener);
  *server = a->a;
  return check::eq(a->b, env.loop->generation(*server), "accepted gen");
}

// A plain blocking client socket connected to 127.0.0.1:port (not in the loop).
inline int plain_client(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

inline std::string pattern(size_t n, size_t seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed) % 251);
  return s;
}

inline const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace loop_env

#endif  // IOREACTOR_TEST_LOOP_ENV_H
