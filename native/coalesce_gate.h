// The gate of the adaptive coalescing window (ReactorOptions.coalesceMicros
// 'auto', the default of the own-set wait, bridge_wait.cc): whether the
// window is open, from how many distinct connections the recent wake-ups
// served.
//
// Why distinct connections and not wake-ups per ms: a lone ping-pong client
// at 17k round trips/s makes as many one-event wake-ups as 1,000 connections
// at a quarter of the ceiling (bench/PERFORMANCE.md), and a window costs the
// lone client up to the window per round trip (42-66% of its round trips at
// 50 µs) while it saves the 1,000 connections a sleep and wake-up of the
// thread per request. What tells them apart is who sent: a closed-loop client
// with c connections can never show more than c distinct ones, however fast
// it goes; an open-loop crowd shows a new one in almost every event. The
// same rule as a NIC's adaptive interrupt coalescing, counted in flows.
//
// How: wake-ups are counted in epochs of kEpochWakeups; each event stamps its
// slot with the epoch, and a slot not yet stamped in it counts once. The
// window is open for the next epoch when this one saw at least kMinDistinct
// connections and events came at least one per window on average (events
// times the window >= the epoch's length), closed otherwise, so it closes
// within two epochs of the crowd going quiet (the epoch it stopped in can
// still have counted enough of it). kMinDistinct is above redis-benchmark's default 50 clients and
// every closed-loop client smaller than that; kEpochWakeups is twice it,
// since with the window closed a wake-up below saturation serves about one
// event, and 128 one-event wake-ups from 1,000 connections name ~120
// distinct ones (from 100, ~72). The rate is there because a window that
// catches nothing costs a sleep more, not one less: 100 connections at 10k
// requests/s, a 50 µs window open, took 0.7-1.4 voluntary context switches
// per request against 0.73 without; at 30k/s 0.06 against 0.3-0.5
// (bench/PERFORMANCE.md).

// Stamps are kept by slot modulo kTableSize: slots are dense from 0 (freed
// ones are reused), so up to kTableSize connections never share a stamp;
// beyond, two that share one count once, which can only keep the window
// closed. Per event: a load of its stamp and a compare (a store when new).
//
// Pure counting on the tokens and times the caller passes in (tokens are
// generation << 32 | slot; times monotonic ns), tested without sockets or a
// clock (native/test/test_coalesce_gate.cc).
#ifndef IOREACTOR_COALESCE_GATE_H
#define IOREACTOR_COALESCE_GATE_H

#include <array>
#include <cstdint>

#include "poller.h"

namespace ioreactor {

class CoalesceGate {
 public:
  static constexpr int kEpochWakeups = 128;
  static constexpr int kMinDistinct = 64;
  static constexpr uint32_t kTableSize = 1024;  // a power of two

  explicit CoalesceGate(int64_t window_ns = 0) : window_ns_(window_ns) {}

  // One wake-up's events of registrations (libuv's own token dropped).
  // Returns true when it ends an epoch: then the caller calls end_epoch().
  bool note(const PollEvent* events, int n) {
    for (int i = 0; i < n; ++i) {
      uint32_t& stamp = stamps_[static_cast<uint32_t>(events[i].token) & (kTableSize - 1)];
      if (stamp != epoch_) {
        stamp = epoch_;
        ++distinct_;
      }
    }
    events_ += n;
    return ++wakeups_ == kEpochWakeups;
  }

  // Decides the next epoch at now_ns, which starts it. The first epoch,
  // begun at no known time, never opens the window.
  void end_epoch(int64_t now_ns) {
    bool timed = started_ns_ >= 0;
    open_ = timed && distinct_ >= kMinDistinct && events_ * window_ns_ >= now_ns - started_ns_;
    started_ns_ = now_ns;
    distinct_ = 0;
    wakeups_ = 0;
    events_ = 0;
    // 0 means "never stamped": at the wrap (2^32 epochs, days at any rate)
    // every stamp is cleared, so no slot counts as already seen.
    if (++epoch_ == 0) {
      stamps_.fill(0);
      epoch_ = 1;
    }
  }

  // Whether the window applies to the next wait.
  bool open() const { return open_; }

 private:
  std::array<uint32_t, kTableSize> stamps_{};  // 0: never stamped; epochs start at 1
  uint32_t epoch_ = 1;
  int wakeups_ = 0;
  int distinct_ = 0;
  int64_t events_ = 0;
  int64_t window_ns_;
  int64_t started_ns_ = -1;  // when this epoch began; -1: the first, not timed
  bool open_ = false;
};

}  // namespace ioreactor

#endif  // IOREACTOR_COALESCE_GATE_H
