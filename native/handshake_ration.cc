// The handshake ration's arithmetic (handshake_ration.h has the design).
#include "handshake_ration.h"

#include <algorithm>

namespace ioreactor {

void HandshakeRation::begin(int64_t now) {
  open_ = true;
  wake_start_ = now;
  steps_ns_ = 0;
  steps_ = 0;
}

int64_t HandshakeRation::budget_ns() const {
  if (fixed_ns_ >= 0) return fixed_ns_;
  return std::max(kFloorNs, avg_established_ns_ * kShareNum / kShareDen);
}

bool HandshakeRation::allow(int64_t now) {
  // Outside a wake-up (a caller that did not begin one): one step at a time.
  if (!open_) begin(now);
  if (steps_ >= kMaxSteps) return false;
  if (steps_ > 0 && steps_ns_ >= budget_ns()) return false;
  ++steps_;
  step_start_ = now;
  return true;
}

void HandshakeRation::step_done(int64_t now) { steps_ns_ += std::max<int64_t>(0, now - step_start_); }

void HandshakeRation::end(int64_t now) {
  if (!open_) return;
  open_ = false;
  int64_t established = std::max<int64_t>(0, now - wake_start_ - steps_ns_);
  // An exponential average over about kAverageOver wake-ups: one long
  // wake-up (a batch of accepts) moves the budget only by 1/kAverageOver.
  avg_established_ns_ += (established - avg_established_ns_) / kAverageOver;
}

}  // namespace ioreactor
