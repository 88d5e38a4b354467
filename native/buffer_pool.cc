// BufferPool (buffer_pool.h has the why): a stack of emptied vectors, the
// most recently given back lent first (its memory is the likeliest to be in
// cache).
#include "buffer_pool.h"

#include <new>
#include <utility>

namespace ioreactor {

void BufferPool::lend(std::vector<uint8_t>* v) {
  if (v->capacity() != 0 || free_.empty()) return;
  v->swap(free_.back());
  free_.pop_back();
  bytes_ -= v->capacity();
}

void BufferPool::give_back(std::vector<uint8_t>* v) {
  size_t cap = v->capacity();
  v->clear();
  if (cap == 0) return;
  if (cap <= kMaxEach && bytes_ + cap <= kMaxBytes && free_.size() < kMaxCount) {
    try {
      free_.emplace_back();  // the stack's own growth is amortised, and bounded
    } catch (const std::bad_alloc&) {
      std::vector<uint8_t>().swap(*v);
      return;
    }
    free_.back().swap(*v);
    bytes_ += cap;
    return;
  }
  std::vector<uint8_t>().swap(*v);
}

}  // namespace ioreactor
