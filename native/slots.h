// The slot table: every registration the loop owns lives in one slot, found by
// index. A slot's generation changes each time it is freed, so a (slot, gen)
// pair names one registration forever; the poller token carries both and an
// event whose generation no longer matches is dropped.
//
// Slots live in a std::vector that may grow while a batch is processed (an
// accept or a sink callback adds registrations), so callers re-find a slot by
// index after anything that may add one, never keeping a Slot* across it.
#ifndef IOREACTOR_SLOTS_H
#define IOREACTOR_SLOTS_H

#include <cstdint>
#include <memory>
#include <vector>

#include "loop.h"
#include "write_buffer.h"

namespace ioreactor {

class TlsStream;
// Frees a stream's TLS state (tls_stream.cc), so this header needs no OpenSSL.
struct TlsStreamFree {
  void operator()(TlsStream* t) const;
};

struct Slot {
  int fd = -1;
  uint32_t gen = 1;  // kept below 2^31 so it fits the int32 records JS reads
  Kind kind = Kind::kFree;
  uint32_t interest = 0;    // what the poller holds when registered
  bool registered = false;  // present in the poller
  Mode mode;                // raw slots choose theirs; owned kinds are level
  bool ref = true;
  // Stream state.
  bool is_socket = false;
  bool can_read = true;   // false for the write end of a pipe
  bool watch_close = false;  // write-only pipe watched for its reader going away
  bool connecting = false;
  bool paused = false;    // pause_reading()
  bool eof = false;       // read returned 0
  bool dead = false;      // an error ended it; it waits for remove()
  bool shut_pending = false;
  bool shut_done = false;
  bool tls_unflushed = false;  // listed in Loop::Impl::tls_unflushed (written since the last flush)
  bool hs_waiting = false;     // a handshake's turn is queued in Loop::Impl::waiting_handshakes
  bool hs_parked = false;      // ... and it is out of the poller's read interest until then
  uint8_t hs_turns = 0;        // 1: its hello was answered (its next step goes ahead), 2: that was used
  bool flight_held = false;    // its handshake's last flight waits for the end of the step (Loop::Impl::held_flights)
  int32_t corked = -1;         // its first write gathered in Loop::Impl::corked (loop_cork.cc), or -1
  // Listener state.
  bool accept_paused = false;
  int accept_batch = 0;
  int accept_max = 0;
  int accept_floor = 0;
  // Child (kChild: fd is its exit fd, a pidfd) and UDP (kDgram) state.
  int32_t pid = 0;
  bool reaped = false;
  bool dgram_single = false;  // one recvmsg per datagram instead of recvmmsg
  uint32_t max_packet = 0;
  int32_t next_free = -1;
  std::unique_ptr<WriteBuffer> wbuf;  // allocated on the first partial write
  std::unique_ptr<TlsStream, TlsStreamFree> tls;  // after start_tls (loop_tls.cc)

  size_t pending() const { return wbuf ? wbuf->size() : 0; }
  uint64_t token(int32_t index) const {
    return (static_cast<uint64_t>(gen) << 32) | static_cast<uint32_t>(index);
  }
};

class SlotTable {
 public:
  // A fresh slot of `kind` holding fd; returns its index.
  int32_t alloc(Kind kind, int fd);
  // Frees a live slot: the generation moves on, the index goes to the free list.
  void release(int32_t index);

  // The live slot at index (any kind but kFree), or nullptr.
  Slot* find(int32_t index) {
    if (index < 0 || static_cast<size_t>(index) >= slots_.size()) return nullptr;
    Slot* s = &slots_[static_cast<size_t>(index)];
    return s->kind == Kind::kFree ? nullptr : s;
  }
  const Slot* find(int32_t index) const {
    return const_cast<SlotTable*>(this)->find(index);
  }
  // The live slot at index if its generation is still gen.
  Slot* find(int32_t index, uint32_t gen) {
    Slot* s = find(index);
    return (s != nullptr && s->gen == gen) ? s : nullptr;
  }
  const Slot* find(int32_t index, uint32_t gen) const {
    return const_cast<SlotTable*>(this)->find(index, gen);
  }
  size_t size() const { return slots_.size(); }
  uint32_t generation(int32_t index) const {
    if (index < 0 || static_cast<size_t>(index) >= slots_.size()) return 0;
    return slots_[static_cast<size_t>(index)].gen;
  }

 private:
  std::vector<Slot> slots_;
  int32_t free_head_ = -1;
};

}  // namespace ioreactor

#endif  // IOREACTOR_SLOTS_H
