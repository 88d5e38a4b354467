// HeapTrim (heap_trim.h has the design note). The counters are atomics: TLS
// streams on worker threads' loops note releases too, and any loop's timer
// may trim for all of them (malloc_trim walks every arena).
#include "heap_trim.h"

#include <atomic>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace ioreactor {

namespace {
std::atomic<uint64_t> g_pending{0};
std::atomic<uint64_t> g_trims{0};
}  // namespace

void HeapTrim::note_release() { g_pending.fetch_add(1, std::memory_order_relaxed); }

uint64_t HeapTrim::pending() { return g_pending.load(std::memory_order_relaxed); }

uint64_t HeapTrim::trims() { return g_trims.load(std::memory_order_relaxed); }

bool HeapTrim::supported() {
#if defined(__GLIBC__)
  return true;
#else
  return false;
#endif
}

bool HeapTrim::run() {
  // Whoever takes the count trims; another loop finding zero does nothing.
  if (g_pending.exchange(0, std::memory_order_relaxed) == 0 || !supported()) return false;
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
  g_trims.fetch_add(1, std::memory_order_relaxed);
  return true;
}

}  // namespace ioreactor
