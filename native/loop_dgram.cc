// UDP sockets in the loop: bind, connect, send, and the kDgram dispatch.
//
// A readable UDP socket is drained in batches (recvmmsg, dgram.cc) straight
// into the slab, one kRecDatagram per datagram {a: offset of the encoded
// sender address, b: payload length}, up to kBudget datagrams per wake-up so
// one busy socket cannot starve the others (level-triggered: the rest is
// reported again next wake-up). A batch needs room for its largest possible
// datagram, so the slab rolls over when less than header + max_packet is left.
// Errors do not end a UDP socket: ECONNREFUSED (a connected socket's peer is
// not listening) and the like go out as kRecError and reading goes on.
#include <errno.h>

#include "dgram.h"
#include "loop_impl.h"

namespace ioreactor {

namespace {
constexpr int kBudget = 256;
constexpr int kPerCall = 64;

Slot* dgram_slot(SlotTable& slots, int32_t index) {
  Slot* s = slots.find(index);
  return (s != nullptr && s->kind == Kind::kDgram) ? s : nullptr;
}
}  // namespace

int Loop::udp_bind(const SockAddr& addr, size_t max_packet, int32_t* slot) {
  if (slot == nullptr || max_packet == 0 || max_packet > dgram::kMaxPacket) return -EINVAL;
  int fd = dgram::open_bound(addr);
  if (fd < 0) return fd;
  int32_t index = impl_->add_slot(Kind::kDgram, fd);
  Slot* s = impl_->slots.find(index);
  s->is_socket = true;
  s->max_packet = static_cast<uint32_t>(max_packet);
  int err = impl_->set_interest(index, kReadable);
  if (err != 0) {
    impl_->free_slot(index);
    return err;
  }
  *slot = index;
  return 0;
}

int Loop::udp_connect(int32_t slot, const SockAddr& peer) {
  Slot* s = dgram_slot(impl_->slots, slot);
  return s == nullptr ? -EBADF : dgram::connect_to(s->fd, peer);
}

int64_t Loop::udp_send(int32_t slot, const uint8_t* data, size_t len, const SockAddr* dest) {
  Slot* s = dgram_slot(impl_->slots, slot);
  if (s == nullptr) return -EBADF;
  if (data == nullptr && len > 0) return -EINVAL;
  return dgram::send_to(s->fd, data, len, dest);
}

int Loop::udp_set_batch(int32_t slot, bool batch) {
  Slot* s = dgram_slot(impl_->slots, slot);
  if (s == nullptr) return -EBADF;
  s->dgram_single = !batch;
  return 0;
}

void Loop::Impl::on_dgram(int32_t index, uint32_t gen) {
  for (int seen = 0; seen < kBudget;) {
    Slot* s = slots.find(index, gen);
    if (s == nullptr) return;
    size_t need = dgram::kMaxHeader + s->max_packet;
    size_t room = 0;
    uint8_t* p = slab_room(need, &room);
    s = slots.find(index, gen);  // slab_room may have delivered
    if (s == nullptr || p == nullptr) return;
    dgram::Received got[kPerCall];
    size_t used = 0;
    auto mode = s->dgram_single ? dgram::RecvMode::kSingle : dgram::RecvMode::kBatch;
    int n = dgram::recv_batch(s->fd, p, room, s->max_packet, mode, got, kPerCall, &used);
    if (n < 0) {
      // Consumed by the read; datagrams behind it come next wake-up.
      push(kRecError, index, gen, -n, 0);  // records carry errno positive
      return;
    }
    if (n == 0) return;
    size_t base = slab_used;
    slab_used += used;  // before push(): a delivery may run JS that reads
    for (int i = 0; i < n; ++i) {
      push(kRecDatagram, index, gen, static_cast<int32_t>(base + got[i].offset),
           static_cast<int32_t>(got[i].length));
    }
    seen += n;
    // Fewer than asked with room to spare: the socket is drained.
    if (n < kPerCall && used + need <= room) return;
  }
}

}  // namespace ioreactor
