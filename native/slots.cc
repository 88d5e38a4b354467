// Slot allocation: a LIFO free list threaded through the table, so a freed
// index is reused first (its generation has moved on, which is what keeps a
// stale event from reaching the new registration).
#include "slots.h"

namespace ioreactor {

namespace {
// Generations stay in 1..2^31-1: records carry them as int32 and 0 is never
// a live generation.
uint32_t next_gen(uint32_t gen) {
  uint32_t next = (gen + 1) & 0x7fffffffu;
  return next == 0 ? 1 : next;
}
}  // namespace

int32_t SlotTable::alloc(Kind kind, int fd) {
  int32_t index = free_head_;
  if (index >= 0) {
    free_head_ = slots_[static_cast<size_t>(index)].next_free;
  } else {
    slots_.emplace_back();
    index = static_cast<int32_t>(slots_.size() - 1);
  }
  Slot& s = slots_[static_cast<size_t>(index)];
  uint32_t gen = s.gen;
  s = Slot();
  s.gen = gen;
  s.kind = kind;
  s.fd = fd;
  return index;
}

void SlotTable::release(int32_t index) {
  Slot& s = slots_[static_cast<size_t>(index)];
  s.wbuf.reset();
  s.tls.reset();
  s.fd = -1;
  s.kind = Kind::kFree;
  s.registered = false;
  s.interest = 0;
  s.gen = next_gen(s.gen);
  s.next_free = free_head_;
  free_head_ = index;
}

}  // namespace ioreactor
