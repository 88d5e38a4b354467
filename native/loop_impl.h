// Loop internals shared by the loop's own files: loop.cc (slots, batches, raw
// fds), loop_stream.cc (read/connect), loop_write.cc (the write path),
// loop_listener.cc (listen/accept), loop_dgram.cc (UDP) and loop_child.cc
// (child processes). Not part of the API: bridge.cc and tests use loop.h only.
//
// Re-entrancy: the sink's deliver() runs JS, which may call back into the
// loop (remove, write, listen...). Records are delivered when the record
// array fills, when the slab rolls over, and at the end of a batch, so every
// handler re-finds its slot by (index, gen) after push()/ensure_slab() and
// never keeps a Slot* across them.
#ifndef IOREACTOR_LOOP_IMPL_H
#define IOREACTOR_LOOP_IMPL_H

#include <sys/uio.h>

#include <deque>
#include <utility>
#include <vector>

#include "buffer_pool.h"
#include "loop.h"
#include "slots.h"

namespace ioreactor {

// An iovec array for `count` pieces: on the stack up to kStack, else on
// the heap (a writev of many buffers, a stream's many gathered writes).
class IovArray {
 public:
  explicit IovArray(int count) : iov_(stack_) {
    if (count > kStack) {
      heap_.resize(static_cast<size_t>(count));
      iov_ = heap_.data();
    }
  }
  struct iovec* data() { return iov_; }

 private:
  static constexpr int kStack = 64;
  struct iovec stack_[kStack];
  std::vector<struct iovec> heap_;
  struct iovec* iov_;
};

struct Loop::Impl {
  static constexpr int kMaxEvents = 1024;
  // The smallest slab tail worth reading into; below it the slab rolls over.
  static constexpr size_t kMinRead = 8 * 1024;
  static constexpr int kAcceptStart = 16;
  static constexpr int kAcceptMax = 256;

  // The buffers TLS streams borrow (buffer_pool.h): first, so that it
  // outlives the streams in `slots`.
  BufferPool tls_buffers;
  std::unique_ptr<Poller> poller;
  LoopSink* sink = nullptr;
  SlotTable slots;
  LoopStats stats;
  size_t refs = 0;
  int nrec = 0;
  uint8_t* slab = nullptr;
  size_t slab_used = 0;
  Record records[kMaxRecords];
  PollEvent events[kMaxEvents];
  // Handshake steps per wake-up (loop_tls.cc); wake-ups are timed for it
  // only once a stream has started TLS, so plaintext loops pay nothing.
  HandshakeRation ration;
  bool tls_seen = false;
  // New-connection work a TLS loop's wake-up leaves for its end (loop_tls.cc):
  // listeners to accept from; handshaking streams reported readable, oldest
  // first, until the ration gives each its step (those this wake-up added
  // are also in new_handshakes, to be parked if their turn has not come).
  std::vector<std::pair<int32_t, uint32_t>> new_listeners;
  std::deque<std::pair<int32_t, uint32_t>> waiting_handshakes;
  std::vector<std::pair<int32_t, uint32_t>> new_handshakes;
  // TLS streams whose handshake's last flight (a server's tickets, a
  // client's Finished) waits to go out with what JS writes on seeing the
  // handshake done, or alone once that delivery is over (loop_tls.cc).
  std::vector<std::pair<int32_t, uint32_t>> held_flights;
  // TLS streams written since the last flush_tls_all(), as (index, gen).
  std::vector<std::pair<int32_t, uint32_t>> tls_unflushed;
  // Plaintext writes gathered while a delivery runs, sent when it ends
  // (loop_cork.cc): the bytes, and per write the stream, where its bytes
  // are and the stream's next gathered write (-1: none). A stream's first
  // write (Slot::corked) keeps in `tail` where its last one is.
  struct CorkedWrite {
    int32_t index;
    uint32_t gen;
    uint32_t offset;
    uint32_t len;
    int32_t next;
    int32_t tail;
  };
  // Larger writes go at once: gathering copies each byte once more, which
  // the one wake-up saved no longer pays for (a 4 KiB memcpy ~0.2 µs here).
  static constexpr size_t kCorkMaxWrite = 4 * 1024;
  static constexpr size_t kCorkMaxBytes = 256 * 1024;  // beyond this, writes go at once
  bool cork_writes = false;
  int delivering = 0;  // deliveries running (deliver() may re-enter the loop)
  std::vector<uint8_t> corked_bytes;
  std::vector<CorkedWrite> corked;

  // Records and the slab (loop.cc).
  void push(int32_t type, int32_t index, uint32_t gen, int32_t a, int32_t b);
  void flush();
  // At least `need` bytes of slab (a fresh slab, after flushing, when the
  // current one has less); *room is all that is left. nullptr: no memory.
  uint8_t* slab_room(size_t need, size_t* room);
  // Room for one stream read: kMinRead at least, kReadSize at most.
  uint8_t* ensure_slab(size_t* room);

  // Registrations (loop.cc).
  int32_t add_slot(Kind kind, int fd);
  void free_slot(int32_t index);
  int set_interest(int32_t index, uint32_t want);
  void dispatch(const PollEvent& ev);

  // Streams (loop_stream.cc).
  uint32_t stream_interest(const Slot& s) const;
  int update_stream(int32_t index);
  void on_stream(int32_t index, uint32_t gen, uint32_t events);
  void finish_connect(int32_t index, uint32_t gen);
  void read_stream(int32_t index, uint32_t gen);
  void flush_stream(int32_t index, uint32_t gen);
  void shutdown_if_drained(Slot& s);
  int64_t write_iov(int32_t index, const struct iovec* iov, int count);
  int64_t send_or_keep(int32_t index, const struct iovec* iov, int count, size_t total);

  // Writes gathered during a delivery (loop_cork.cc).
  bool cork(int32_t index, Slot* s, const struct iovec* iov, int count, size_t total);  // s: the stream at index
  int uncork(int32_t index);  // sends that stream's gathered writes now: 0 or -errno
  int64_t send_chain(int32_t index, const std::vector<CorkedWrite>& writes, const uint8_t* bytes, int32_t first);
  void uncork_all();
  void forget_corked(const std::vector<CorkedWrite>& writes, size_t from);
  void stream_failed(int32_t index, uint32_t gen, int err);  // err: -errno
  void idle_hangup(int32_t index, uint32_t gen, uint32_t events);
  Slot* stream(int32_t index);

  // TLS streams (loop_tls.cc).
  static int64_t clock_ns();  // monotonic, for the ration
  void begin_wakeup();
  void end_wakeup();
  void serve_new_connections();
  void accept_new(std::vector<std::pair<int32_t, uint32_t>>* listeners);
  void step_handshakes();
  void park_handshakes();
  bool drop_waiting_head();
  void arm_waiting_head();
  void end_wait(int32_t index, uint32_t gen);
  void set_parked(int32_t index, uint32_t gen, bool parked);
  void read_tls(int32_t index, uint32_t gen);
  void read_tls_now(int32_t index, uint32_t gen);
  void open_tls_in_place(int32_t index, uint32_t gen, uint8_t* p, size_t n);
  void pump_tls(int32_t index, uint32_t gen);
  void decrypt_tls(int32_t index, uint32_t gen);
  void hold_last_flight(int32_t index, uint32_t gen);
  void send_held_flights();
  int send_tls_output(int32_t index);
  // Asks for the state the flush of that stream, next in flush_tls_all, will seal with.
  void prefetch_seal(const std::pair<int32_t, uint32_t>& next);
  void tls_failed(int32_t index, uint32_t gen);
  int64_t write_tls(int32_t index, const struct iovec* iov, int count);
  int shutdown_tls(int32_t index);
  bool tls_holding(const Slot& s) const;  // plaintext held until the handshake is done
  size_t tls_held(const Slot& s) const;

  // Listeners (loop_listener.cc).
  void on_listener(int32_t index, uint32_t gen);
  enum class Took { kTaken, kSkipped, kStop };  // one accept: a stream, none this time, no more
  void accept_batch(int32_t index, uint32_t gen, bool rationed);
  Took take_connection(int32_t index, uint32_t gen);
  bool accept_error(int32_t index, uint32_t gen, int err);  // err: -errno
  int register_listener(int fd, bool owned, int32_t* slot);
  void adapt_batch(Slot& s, int accepted);

  // Children and UDP (loop_child.cc, loop_dgram.cc).
  void on_child(int32_t index, uint32_t gen);
  // A child slot going away (loop closed, slot removed): closes its exit fd,
  // or hands fd and process to the reaper when the process is not reaped yet,
  // so it never becomes a lasting zombie. s.fd is -1 afterwards.
  static void release_child(Slot& s);
  void on_dgram(int32_t index, uint32_t gen);
};

}  // namespace ioreactor

#endif  // IOREACTOR_LOOP_IMPL_H
