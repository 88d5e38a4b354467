// Plaintext writes made while a delivery runs are gathered, not sent, and go
// out when it ends: one send per stream for everything JS wrote to it in
// that delivery, all streams' sends back to back (Loop::set_cork_writes).
//
// Why: a JS handler takes microseconds per connection, so a server that
// sends each reply as its handler writes it spreads its sends over the whole
// delivery, and a peer quicker than the handler (a client on another core)
// goes back to sleep between two of them. Each send then wakes it again, and
// on a VM the wake-up (an IPI) costs the sender more than the send itself:
// with 100 pipelined connections, waking the key-value load generator was
// 7.6% of our server's CPU (perf, `_raw_spin_unlock_irqrestore` under
// `sock_def_readable`), 3.6% with the sends gathered at the end. A handler
// that writes a message at a time (sendLine per line) also gets one send per
// stream instead of one per write. Node's `net` has `cork`/`uncork` for the
// second; here both are automatic, and nothing waits past the delivery.
//
// What is gathered: writes up to kCorkMaxWrite, on a stream that is
// connected with nothing already queued (its order stays the kernel's), while
// the gathered bytes stay under kCorkMaxBytes. Anything else first sends
// what that stream has gathered, then goes as before. A write reports its
// gathered bytes as sent (0 left): what is still in our hands for long is
// only what the kernel refused. Whatever asks for the stream's state from
// JS (buffered, finish, shutdown_write, start_tls) sends its gathered bytes
// first, so closing, half-closing and STARTTLS see the stream as written;
// remove (an abort) tries one send of them, as they would have gone at once.
#include <errno.h>
#include <sys/uio.h>

#include <new>
#include <utility>
#include <vector>

#include "loop_impl.h"

namespace ioreactor {

void Loop::set_cork_writes(bool on) { impl_->cork_writes = on; }

bool Loop::Impl::cork(int32_t index, Slot* s, const struct iovec* iov, int count, size_t total) {
  if (!cork_writes || delivering == 0 || total > kCorkMaxWrite) return false;
  if (corked_bytes.size() + total > kCorkMaxBytes) return false;
  if (s->connecting || s->pending() != 0) return false;
  auto offset = static_cast<uint32_t>(corked_bytes.size());
  try {  // the arena's first growths, and the list's, may find no memory: then the write goes at once
    if (corked.size() == corked.capacity()) corked.reserve(corked.empty() ? 64 : 2 * corked.capacity());
    for (int i = 0; i < count; ++i) {
      const auto* base = static_cast<const uint8_t*>(iov[i].iov_base);
      corked_bytes.insert(corked_bytes.end(), base, base + iov[i].iov_len);
    }
  } catch (const std::bad_alloc&) {
    corked_bytes.resize(offset);
    return false;
  }
  ++stats.corked_writes;
  auto len = static_cast<uint32_t>(total);
  auto at = static_cast<int32_t>(corked.size());
  if (s->corked < 0) {
    s->corked = at;
    corked.push_back(CorkedWrite{index, s->gen, offset, len, -1, at});
    return true;
  }
  auto tail = static_cast<size_t>(corked[static_cast<size_t>(s->corked)].tail);
  if (corked[tail].offset + corked[tail].len == offset) {  // right after its last write: one piece
    corked[tail].len += len;
    return true;
  }
  corked.push_back(CorkedWrite{index, s->gen, offset, len, -1, -1});  // reserved above: does not throw
  corked[tail].next = at;
  corked[static_cast<size_t>(s->corked)].tail = at;
  return true;
}

// Sends the writes chained from `first` in `writes` (bytes in `bytes`) as one
// send; what the kernel refuses is queued as any write's remainder.
int64_t Loop::Impl::send_chain(int32_t index, const std::vector<CorkedWrite>& writes, const uint8_t* bytes,
                               int32_t first) {
  int count = 0;
  for (int32_t w = first; w >= 0; w = writes[static_cast<size_t>(w)].next) ++count;
  IovArray pieces(count);
  struct iovec* iov = pieces.data();
  size_t total = 0;
  int n = 0;
  for (int32_t w = first; w >= 0; w = writes[static_cast<size_t>(w)].next, ++n) {
    const auto& cw = writes[static_cast<size_t>(w)];
    iov[n].iov_base = const_cast<uint8_t*>(bytes + cw.offset);
    iov[n].iov_len = cw.len;
    total += cw.len;
  }
  ++stats.corked_sends;
  return send_or_keep(index, iov, count, total);
}

// The streams whose first gathered write is in writes[from..] lose those
// bytes: their byte stream has a hole, so they are dead (as a write that
// finds no memory leaves its stream), and JS hears it at its next call.
void Loop::Impl::forget_corked(const std::vector<CorkedWrite>& writes, size_t from) {
  for (size_t i = from; i < writes.size(); ++i) {
    Slot* s = slots.find(writes[i].index, writes[i].gen);
    if (s == nullptr || s->corked != static_cast<int32_t>(i)) continue;
    s->corked = -1;
    s->dead = true;
    set_interest(writes[i].index, 0);
  }
}

int Loop::Impl::uncork(int32_t index) {
  Slot* s = slots.find(index);
  int32_t first = s->corked;
  if (first < 0) return 0;
  s->corked = -1;
  int64_t r = send_chain(index, corked, corked_bytes.data(), first);
  return r < 0 ? static_cast<int>(r) : 0;
}

// The end of a delivery. The lists are taken first: nothing here runs JS,
// but a stream that fails is reported (a record, which may deliver) only
// once every stream is sent. Capacity is kept for the next delivery.
void Loop::Impl::uncork_all() {
  if (corked.empty()) return;
  std::vector<CorkedWrite> writes;
  std::vector<uint8_t> bytes;
  writes.swap(corked);
  bytes.swap(corked_bytes);
  std::vector<std::pair<std::pair<int32_t, uint32_t>, int>> failed;
  size_t i = 0;
  try {
    for (; i < writes.size(); ++i) {
      const CorkedWrite& w = writes[i];
      Slot* s = slots.find(w.index, w.gen);
      // Not a stream's first write, or the stream was removed (its bytes go with it).
      if (s == nullptr || s->corked != static_cast<int32_t>(i)) continue;
      s->corked = -1;
      if (s->dead) continue;
      int64_t r = send_chain(w.index, writes, bytes.data(), static_cast<int32_t>(i));
      if (r >= 0) continue;
      slots.find(w.index, w.gen)->dead = true;
      set_interest(w.index, 0);
      failed.push_back({{w.index, w.gen}, static_cast<int>(r)});
    }
  } catch (...) {  // out of memory: the streams not reached let go of lists that are gone
    forget_corked(writes, i);
    throw;
  }
  writes.clear();
  bytes.clear();
  if (corked.empty()) corked.swap(writes);
  if (corked_bytes.empty()) corked_bytes.swap(bytes);
  for (const auto& f : failed) push(kRecError, f.first.first, f.first.second, -f.second, 0);
}

}  // namespace ioreactor
