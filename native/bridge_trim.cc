// The timer behind heap trimming (heap_trim.h has the why). After each
// dispatch, a loop that finds TLS releases noted arms a one-shot timer of
// HeapTrim::kTrimDelayMs unless it is armed already, so trims come at most
// once per delay, after the burst that made the holes, never inside a
// dispatch. The timer is unref'd: a pending trim never keeps Node alive.
#include <uv.h>

#include <new>

#include "bridge_loop.h"
#include "heap_trim.h"

namespace ioreactor {

void NativeLoop::arm_trim() {
  if (closed_ || !HeapTrim::supported() || HeapTrim::pending() == 0) return;
  if (trim_timer_ == nullptr) {
    auto* h = new (std::nothrow) uv_timer_t;
    if (h == nullptr) return;  // only memory is at stake; try after the next dispatch
    if (uv_timer_init(uv_loop_, h) != 0) {
      delete h;
      return;
    }
    h->data = this;
    uv_unref(reinterpret_cast<uv_handle_t*>(h));
    trim_timer_ = h;
  }
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(trim_timer_)) != 0) return;
  uv_timer_start(trim_timer_, &NativeLoop::on_trim, HeapTrim::kTrimDelayMs, 0);
}

void NativeLoop::on_trim(uv_timer_t* h) {
  (void)h;
  HeapTrim::run();
}

}  // namespace ioreactor
