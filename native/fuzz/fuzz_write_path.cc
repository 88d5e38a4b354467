// Fuzz target: the stream write path (Loop::write/writev, the pending-write
// buffer, flushes on writable) against a model, over a real socketpair with
// small kernel buffers so partial writes happen all the time.
//
// The bytes written are position-determined (byte i of the stream is
// pattern(i)), so the model is just two counters: bytes written and bytes the
// peer has read. Every byte the peer reads must be pattern(its position);
// buffered() must never exceed what was written and not yet read; at the end
// every written byte arrives, in order.
//
// The input drives a sequence of operations, one byte each plus arguments:
// write, writev (1..16 chunks, empty ones included), pump the loop, read on
// the peer, and, through the fault table, a send that takes nothing (EAGAIN)
// or a write buffer that cannot grow (ENOMEM: the stream must be dead after).
// With corking on (Loop::set_cork_writes, chosen by the input), one more
// operation has the peer send a byte and pumps the loop, and from inside the
// delivery of that read runs a few writes, writevs and buffered() checks:
// those writes are gathered and sent when the delivery ends, and the same
// model must hold. A gathered send that fails there reports the stream dead
// by a kRecError record.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "fault.h"
#include "fuzz_common.h"
#include "loop.h"

using namespace ioreactor;
using fuzz::Input;
using fuzz::require;

namespace {

uint8_t pattern(uint64_t i) { return static_cast<uint8_t>((i * 131 + 7) % 251); }

struct NullSink : LoopSink {
  std::vector<std::unique_ptr<uint8_t[]>> slabs;
  std::function<void()> during;  // run from inside a delivery with a read in it
  bool error = false;            // a kRecError came: the stream is dead
  uint8_t* new_slab(size_t size) override {
    slabs.emplace_back(new uint8_t[size]);
    return slabs.back().get();
  }
  void deliver(const Record* recs, int count) override {
    bool read = false;
    for (int i = 0; i < count; ++i) {
      if (recs[i].type == kRecError) error = true;
      if (recs[i].type == kRecData) read = true;
    }
    if (read && during) during();
  }
};

struct Harness {
  NullSink sink;
  std::unique_ptr<Loop> loop;
  int32_t slot = -1;
  int peer = -1;
  uint64_t written = 0;  // bytes accepted by write/writev
  uint64_t received = 0;
  bool dead = false;
  std::vector<uint8_t> scratch;

  bool open(Backend backend, int sndbuf) {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) != 0) return false;
    ::setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    ::setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof sndbuf);
    peer = fds[1];
    int err = 0;
    loop = Loop::create(backend, &sink, &err);
    if (!loop || loop->adopt_stream(fds[0], &slot) != 0) {
      ::close(fds[0]);
      return false;
    }
    return true;
  }
  ~Harness() {
    loop.reset();  // closes the adopted end
    if (peer >= 0) ::close(peer);
  }

  // Fills `len` bytes of the stream starting at position `at`.
  const uint8_t* bytes_at(uint64_t at, size_t len, size_t offset) {
    if (scratch.size() < offset + len) scratch.resize(offset + len);
    for (size_t i = 0; i < len; ++i) scratch[offset + i] = pattern(at + i);
    return scratch.data() + offset;
  }

  void check_result(int64_t r, uint64_t len) {
    if (r == -ENOMEM) {
      dead = true;  // part of this write may have gone: only the prefix before it counts
      return;
    }
    require(r >= 0, "write failed unexpectedly");
    written += len;
    require(static_cast<uint64_t>(r) <= written - received, "buffered more than in flight");
  }

  void write(Input& in) {
    size_t len = in.u16() % 20000;
    check_result(loop->write(slot, bytes_at(written, len, 0), len), len);
  }

  void writev(Input& in) {
    int count = 1 + in.byte() % 16;
    size_t lens[16];
    size_t total = 0;
    for (int i = 0; i < count; ++i) {
      lens[i] = in.u16() % 4096;
      total += lens[i];
    }
    bytes_at(written, total, 0);
    const uint8_t* bufs[16];
    size_t off = 0;
    for (int i = 0; i < count; ++i) {
      bufs[i] = scratch.data() + off;
      off += lens[i];
    }
    check_result(loop->writev(slot, bufs, lens, count), total);
  }

  // The peer sends a byte; the delivery of its read runs up to 8 writes,
  // writevs and buffered() checks (gathered when corking is on).
  void in_delivery(Input& in) {
    int ops = 1 + in.byte() % 8;
    sink.during = [this, &in, ops] {
      for (int k = 0; k < ops && !in.empty() && !dead; ++k) {
        switch (in.byte() % 3) {
          case 0: write(in); break;
          case 1: writev(in); break;
          default: {
            int64_t b = loop->buffered(slot);  // sends what was gathered: it may find no memory
            if (b < 0) dead = true;
            else require(static_cast<uint64_t>(b) <= written - received, "buffered more than in flight");
          }
        }
      }
    };
    uint8_t one = 1;
    if (::write(peer, &one, 1) == 1) loop->poll_once(0);
    sink.during = nullptr;
  }

  // Reads up to `limit` bytes on the peer and checks each against the pattern.
  size_t read_peer(size_t limit) {
    uint8_t buf[16384];
    size_t got = 0;
    while (got < limit) {
      ssize_t n = ::read(peer, buf, std::min(sizeof buf, limit - got));
      if (n <= 0) break;
      for (ssize_t i = 0; i < n; ++i) require(buf[i] == pattern(received + i), "byte out of order");
      received += static_cast<uint64_t>(n);
      got += static_cast<size_t>(n);
    }
    require(received <= written, "peer read more than was written");
    return got;
  }

  // Pumps and reads until everything written has arrived.
  void drain() {
    for (int i = 0; i < 100000 && received < written; ++i) {
      loop->poll_once(0);
      read_peer(SIZE_MAX);
    }
    require(received == written, "written bytes never arrived");
    require(loop->buffered(slot) == 0, "buffer not empty after draining");
  }
};

void run(Input& in) {
  Backend backend = (in.byte() & 1) != 0 ? Backend::kPoll : Backend::kEpoll;
  uint8_t setup = in.byte();
  int sndbuf = 1024 << (setup % 6);
  bool cork = (setup & 0x80) != 0;
  Harness h;
  if (!h.open(backend, sndbuf)) return;
  h.loop->set_cork_writes(cork);
  while (!in.empty() && !h.dead && !h.sink.error) {
    switch (in.byte() % 7) {
      case 0: h.write(in); break;
      case 1: h.writev(in); break;
      case 2: h.loop->poll_once(0); break;
      case 3: h.read_peer(static_cast<size_t>(in.u16())); break;
      case 4: fault::set(fault::Call::kSend, EAGAIN, 1 + in.byte() % 3); break;
      case 5: h.in_delivery(in); break;
      default: fault::set(fault::Call::kWriteBuffer, ENOMEM, 1); break;
    }
  }
  fault::clear();
  if (h.dead || h.sink.error) {
    require(h.loop->write(h.slot, h.bytes_at(0, 1, 0), 1) == -EPIPE, "a dead stream takes writes");
    return;
  }
  h.drain();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Input in(data, size);
  run(in);
  return 0;
}
