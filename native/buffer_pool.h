// Byte buffers a loop's TLS streams borrow and give back, so a busy server
// does not allocate and free two small buffers for every request it answers.
//
// Why: an idle TLS stream keeps none of its buffers (the idle-memory target:
// plaintext waiting for the end of the tick, sealed records waiting for the
// socket, ciphertext waiting for the rest of a record), so each request and
// reply used to malloc and free them. Within one tick a batch of replies has
// all its plaintext buffers live at once, more than glibc's per-size thread
// cache holds, so those frees and mallocs took glibc's slow paths. The pool
// hands the same few buffers round instead: a stream takes one when it
// needs room and gives it back as soon as it is empty again, so the pool
// holds what one busy tick needs, not a buffer per connection.
//
// Bounds: a buffer larger than one TLS record's worth is not kept (the big
// writes that grow one cost far more than a malloc), nor any beyond
// kMaxCount buffers or kMaxBytes of kept capacity in all. One pool per loop, used only on the
// loop's thread (no locking); it must outlive the streams that use it.
#ifndef IOREACTOR_BUFFER_POOL_H
#define IOREACTOR_BUFFER_POOL_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ioreactor {

class BufferPool {
 public:
  static constexpr size_t kMaxEach = 16 * 1024 + 256 + 64;  // a whole record with its header and tag
  static constexpr size_t kMaxBytes = 256 * 1024;
  static constexpr size_t kMaxCount = 1024;

  // Gives *v a kept buffer when it has none (capacity 0) and one is kept.
  void lend(std::vector<uint8_t>* v);
  // Takes *v's buffer back (v is left empty with no capacity): kept for the
  // next lend(), or freed when too large or the pool is full.
  void give_back(std::vector<uint8_t>* v);
  // Buffers kept, and their capacity in bytes.
  size_t count() const { return free_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<std::vector<uint8_t>> free_;
  size_t bytes_ = 0;
};

}  // namespace ioreactor

#endif  // IOREACTOR_BUFFER_POOL_H
