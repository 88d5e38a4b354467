// The loop: a Poller plus a slot table of registrations, and the socket work
// that must stay native (batched accept, read into a slab, write at once with
// only the remainder buffered). It knows nothing of Node: bridge.cc wraps it,
// ctest drives it directly.
//
// Every registration lives in a slot; a slot's generation is bumped when it is
// freed, and each poller token is (generation << 32 | slot), so an event for a
// registration removed earlier in the same batch, or for an fd number reused
// since, is dropped instead of delivered.
#ifndef IOREACTOR_LOOP_H
#define IOREACTOR_LOOP_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "handshake_ration.h"
#include "poller.h"
#include "process.h"

namespace ioreactor {

class TlsContext;
class TlsStream;

// What a slot holds.
enum class Kind : uint8_t {
  kFree,
  kRaw,       // a caller's fd: events are reported, nothing is read; not closed by us
  kListener,  // listening stream socket: accepts in batches
  kStream,    // connected TCP/UNIX socket or pipe: read into the slab, buffered writes
  kDgram,     // UDP socket: datagrams read in batches
  kChild,     // pidfd of a child process: one kRecExited when it ends
};

// One record crosses into JavaScript per event, kRecordInts int32 each, in a
// flat Int32Array: {type, slot, gen, a, b}. lib/native.ts names the same
// offsets (RecordField) and decodes them in one place (recordOwner).
enum RecordType : int32_t {
  kRecRaw = 1,          // a = Events mask
  kRecAccepted = 2,     // slot/gen = listener; a = new stream slot, b = its gen
  kRecData = 3,         // a = offset in the current slab, b = length
  kRecEof = 4,          // the peer shut down its write side (read returned 0)
  kRecError = 5,        // a = errno; the stream is dead for reading and writing
  kRecDrained = 6,      // the write buffer became empty
  kRecConnected = 7,    // a non-blocking connect finished: a = 0 or errno
  kRecAcceptError = 8,  // a = errno; accepting is paused until resume_accepting()
  kRecDatagram = 9,     // a = offset of (address, payload) in the slab, b = payload length
  kRecExited = 10,      // a = exit code (-1 when signalled), b = signal number
  kRecHandshake = 11,   // a TLS handshake completed (loop_tls.cc); a = settled flags, b = 1: more to ask (TlsStream::settled_flags)
  kRecTlsError = 12,    // TLS failed; Loop::tls(slot)->error_code() says why; the stream is dead
  // Made by the bridge, not the loop: a short kRecData copied out of the slab
  // (bridge_dispatch.cc). a = offset in the keep chunk passed with the batch.
  kRecDataKept = 13,
  // Made by the bridge too: a kRecDataKept that was one whole masked
  // WebSocket frame, its payload unmasked in the copy (ws_frames.h).
  kRecFrameKept = 14,
};

struct Record {
  int32_t type;
  int32_t slot;
  int32_t gen;
  int32_t a;
  int32_t b;
};

constexpr int kRecordInts = 5;
static_assert(sizeof(Record) == kRecordInts * sizeof(int32_t), "records cross as kRecordInts int32 each");
static_assert(offsetof(Record, a) == 3 * sizeof(int32_t) && offsetof(Record, b) == 4 * sizeof(int32_t),
              "field offsets are RecordField in lib/native.ts");

// Where records and slab memory go. The bridge implements it over JS;
// tests implement it over vectors.
class LoopSink {
 public:
  virtual ~LoopSink() = default;
  // A fresh slab of `size` bytes the loop may write into; memory already
  // handed out in records is never written again (JS keeps Buffer views).
  virtual uint8_t* new_slab(size_t size) = 0;
  // Delivers `count` records; the slab is the one last returned by new_slab.
  // Called when the record array or the slab fills, and at the end of a batch.
  virtual void deliver(const Record* records, int count) = 0;
};

struct LoopStats {
  uint64_t wakeups = 0;         // process() calls that saw at least one event
  uint64_t events = 0;          // poller events processed
  uint64_t accepts = 0;         // connections accepted
  uint64_t accept_batches = 0;  // listener wake-ups that accepted at least one
  uint64_t deliveries = 0;      // crossings into the sink
  uint64_t corked_writes = 0;   // writes gathered during a delivery (set_cork_writes)
  uint64_t corked_sends = 0;    // sends that carried gathered writes
};

// A socket address as JS sees it: family 4, 6 or 0 (UNIX), host or path, port.
struct SockAddr {
  int family = 0;
  std::string host;
  int port = 0;
};

class Loop {
 public:
  static constexpr int kMaxRecords = 1024;
  static constexpr size_t kSlabSize = 256 * 1024;
  static constexpr size_t kReadSize = 64 * 1024;
  static constexpr int kMaxDrainRounds = 4;  // full waits re-polled per poll_once

  // Returns nullptr and sets *err (-errno) on failure.
  static std::unique_ptr<Loop> create(Backend backend, LoopSink* sink, int* err);
  ~Loop();  // closes every fd the loop owns, exactly once

  Poller& poller();

  // Waits up to timeout_ms and processes what comes back; while a wait comes
  // back full it waits again with timeout 0, at most kMaxDrainRounds times. Returns events processed or -errno.
  int poll_once(int timeout_ms);
  // Processes events gathered elsewhere (the waiter thread).
  void process(const PollEvent* events, int count);

  // ---- raw fds (Poller API, IReactorFDSet) ----
  int add_raw(int fd, uint32_t interest, Mode mode, int32_t* slot);
  int modify_raw(int32_t slot, uint32_t interest, Mode mode);

  // ---- every kind ----
  int remove(int32_t slot);  // unregister; closes the fd unless kRaw
  uint32_t generation(int32_t slot) const;
  // True while (slot, gen) names a live registration: what a handle held
  // elsewhere (JS) must match before it may act on the slot.
  bool live(int32_t slot, uint32_t gen) const;
  int fd_of(int32_t slot) const;  // -1 when free
  int set_ref(int32_t slot, bool ref);  // ref'd registrations keep Node alive
  size_t refcount() const;          // ref'd live registrations

  // ---- sockets ----
  // host is numeric ("127.0.0.1", "::"), or a path when family is 0.
  int listen(const SockAddr& addr, int backlog, bool reuse_port, int32_t* slot);
  // A listening socket someone else made (adoptStreamPort, systemd): made
  // non-blocking and close-on-exec, then ours; the caller keeps it on failure.
  int adopt_listener(int fd, int32_t* slot);
  int set_accept_batch(int32_t slot, int max_batch);  // 1 = one accept per wake-up
  int resume_accepting(int32_t slot);
  int connect(const SockAddr& addr, const SockAddr* bind, int32_t* slot);
  int adopt_stream(int fd, int32_t* slot);  // an fd we now own (pipes, socketpair)

  // Writes at once (during a delivery with set_cork_writes: when it ends);
  // buffers what the kernel refused and arms writable interest.
  // Returns bytes still buffered (0 = all sent or gathered) or -errno.
  int64_t write(int32_t slot, const uint8_t* data, size_t len);
  int64_t writev(int32_t slot, const uint8_t* const* bufs, const size_t* lens, int count);
  // Bytes not yet taken by the kernel (gathered writes are sent first).
  int64_t buffered(int32_t slot);
  // What the kernel holds in the socket's send queue (sent but not
  // acknowledged, or not sent): it falls as the peer reads, byte by byte,
  // where buffered() falls only when the kernel takes a big step. -EBADF
  // for a slot that is gone.
  int64_t kernel_send_queue(int32_t slot);
  // While on, writes made during a delivery (from inside the sink's
  // deliver()) are gathered and sent when it ends: one send per stream, all
  // back to back (loop_cork.cc). Off by default; the bridge turns it on.
  void set_cork_writes(bool on);
  int shutdown_write(int32_t slot);  // after the buffer drains
  // The usual end of a connection in one call (a peer's close, or
  // loseConnection with nothing buffered): a TLS stream sends close_notify
  // (as shutdown_write; a repeat or a dead stream is no error, there is
  // nothing to send), then, nothing being left to write, the slot is removed.
  // Returns 0 (removed), the bytes still waiting (close_notify queued after
  // them; the slot stays for the caller to remove once they drain), or -errno.
  int64_t finish(int32_t slot);
  int pause_reading(int32_t slot);
  int resume_reading(int32_t slot);
  int set_nodelay(int32_t slot, bool on);
  int set_keepalive(int32_t slot, bool on);
  // SO_RCVLOWAT: the poller reports the socket readable only once `bytes`
  // are queued (or at EOF or an error). Not on TLS: it would count ciphertext.
  int set_read_low_water(int32_t slot, int bytes);
  int local_address(int32_t slot, SockAddr* out) const;
  int peer_address(int32_t slot, SockAddr* out) const;
  // An IPv4 peer as numbers (address in host byte order); -EAFNOSUPPORT
  // for any other family, else 0 or -errno.
  int peer_ipv4(int32_t slot, uint32_t* addr, uint16_t* port) const;

  // ---- child processes (loop_child.cc) ----
  // One fd of the child: a pipe we read, a pipe we write, or one of our fds
  // passed through as it is (parent_fd; the caller keeps it).
  struct ChildFd {
    enum How : uint8_t { kPipeRead, kPipeWrite, kInherit };
    int child_fd;
    How how;
    int parent_fd;
  };
  struct Spawned {
    int pid = 0;
    int32_t slot = -1;           // the child (kChild): kRecExited comes from it
    std::vector<int32_t> pipes;  // per ChildFd: its stream slot, or -1 (kInherit)
  };
  // Starts a child with opts (opts.fds is filled from `fds`), registers its
  // exit fd (pidfd) and adopts our pipe ends as streams. All or nothing: on
  // failure nothing is left open or running. Returns 0 or -errno.
  int spawn(const process::SpawnOptions& opts, const std::vector<ChildFd>& fds, Spawned* out);
  // Signals a child slot's process; -ESRCH once it has been reaped.
  int signal_child(int32_t slot, int sig);

  // ---- UDP (loop_dgram.cc) ----
  // A bound UDP socket whose datagrams (up to max_packet bytes each, longer
  // ones truncated) arrive as kRecDatagram records; a kRecError record with
  // ECONNREFUSED on a connected socket leaves it usable.
  int udp_bind(const SockAddr& addr, size_t max_packet, int32_t* slot);
  int udp_connect(int32_t slot, const SockAddr& peer);  // empty host: disconnect
  // Bytes sent or -errno (EAGAIN: the send buffer is full, nothing sent).
  int64_t udp_send(int32_t slot, const uint8_t* data, size_t len, const SockAddr* dest);
  // recvmmsg batches (default) or one recvmsg per datagram, for comparison.
  int udp_set_batch(int32_t slot, bool batch);

  // ---- TLS (loop_tls.cc) ----
  // New handshake steps are rationed per wake-up so that a flood of them
  // waits its turn instead of starving established connections: a wake-up's
  // steps may take about half the time recent wake-ups spent on everything
  // else, and at least one step (handshake_ration.h has the rules and why).
  static constexpr int kHandshakeBudget = HandshakeRation::kMaxSteps;
  // While handshakes wait, a wake-up's records go to JS every kFloodChunk
  // events, not once at its end (loop_tls.cc has why).
  static constexpr int kFloodChunk = 64;
  // A fixed step time per wake-up instead of the share (the tests use 0, one
  // step per wake-up, and INT64_MAX, kHandshakeBudget steps); negative
  // restores the share.
  void set_handshake_time_budget(int64_t ns);
  // Puts a stream (connected, or still connecting) under TLS: from now on
  // reads are decrypted and writes encrypted; a client sends its hello at
  // once. A client with a non-empty `session_key` (its peer's address and
  // name) offers the session saved under it and saves the ones it receives.
  // Returns 0 or -errno (-EPROTO with *err set to the reason).
  int start_tls(int32_t slot, std::shared_ptr<TlsContext> ctx, const std::string& host, const std::string& session_key,
                std::string* err);
  // Encrypts and sends the plaintext writes left waiting (TlsStream::flush).
  // Returns what write() does: bytes still buffered, or -errno (-EPROTO: the
  // stream is dead).
  int64_t flush_tls(int32_t slot);
  // flush_tls() on every TLS stream written since the last call (the end of
  // a JS tick, one call for all of them). Streams whose result is not 0
  // (bytes still buffered, or -errno) are appended to *attention: the rest
  // need nothing from JS.
  struct TlsFlushed {
    int32_t slot;
    uint32_t gen;
    int64_t result;
  };
  void flush_tls_all(std::vector<TlsFlushed>* attention);
  // Ciphertext read before start_tls (after a PROXY header), fed as if just
  // read: before the handshake completes only. 0, -errno, or -EPROTO (*err).
  int tls_feed(int32_t slot, const uint8_t* data, size_t len, std::string* err);
  // The stream's TLS state, or nullptr.
  const TlsStream* tls(int32_t slot) const;

  const LoopStats& stats() const;

 private:
  Loop();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ioreactor

#endif  // IOREACTOR_LOOP_H
