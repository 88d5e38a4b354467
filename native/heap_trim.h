// Giving the holes TLS leaves in the malloc heap back to the kernel.
//
// Why: a TLS handshake allocates and frees tens of kilobytes (two record
// buffers of ~17 KiB, the key exchange and signature temporaries) between
// the small long-lived allocations of the connections around it, and every
// TLS connection that closes frees ~14 KiB the same way. glibc's malloc
// returns memory to the kernel only from the top of its heap, so the freed
// pages in the middle stay resident: after 10,000 handshakes about 1.3 KiB
// per connection of RSS is free memory nobody uses (bench/PERFORMANCE.md has
// the measurement). malloc_trim(0) gives back every whole free page.
//
// Policy: TLS notes each event that leaves holes (a handshake completed, a
// TLS stream freed) on a process-wide counter; a loop that sees the counter
// non-zero after a dispatch arms a one-shot timer (bridge), and the timer
// trims. So a trim runs at most once per kTrimDelayMs per loop, after a
// burst rather than during every handshake of it, and never on a server
// whose connections are only busy (reads release TLS buffers constantly;
// those are reused at once and are not counted). Elsewhere (musl, macOS:
// allocators that return memory on their own) run() does nothing.
#ifndef IOREACTOR_HEAP_TRIM_H
#define IOREACTOR_HEAP_TRIM_H

#include <cstdint>

namespace ioreactor {

class HeapTrim {
 public:
  static constexpr int kTrimDelayMs = 1000;

  // Something freed (or is about to free) a large temporary: a trim is due.
  static void note_release();
  // Releases noted since the last run().
  static uint64_t pending();
  // Trims the heap when anything was noted since the last run; true if it
  // trimmed (always false where the allocator has no trim).
  static bool run();
  // Trims done by this process so far.
  static uint64_t trims();
  // Whether this build can trim at all (glibc).
  static bool supported();
};

}  // namespace ioreactor

#endif  // IOREACTOR_HEAP_TRIM_H
