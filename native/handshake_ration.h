// The handshake ration: how much of a loop wake-up new TLS handshakes may
// take, so a flood of them cannot starve established connections.
//
// Why a share of the loop's time and not a fixed budget: an echo connection
// at saturation waits one loop cycle for its reply, so its latency is the
// time a wake-up spends on established traffic plus the time it spends on
// handshakes. A fixed 2 ms per wake-up adds 2 ms to every cycle, whatever the
// cycle is. Here handshake steps in one wake-up may take up to kShareNum /
// kShareDen of the time recent wake-ups spent on everything else (an average
// over about kAverageOver of them), so a flood stretches established
// connections' round trips by about that fraction and no more.
//
// The floors: every wake-up may run one step, and kFloorNs of steps, however
// little else it did. So handshakes always progress, a loop with nothing else
// to do gives them (nearly) all its time, and a wake-up whose steps are
// refused never leaves the loop spinning on sockets reported ready again
// with nothing done. kMaxSteps bounds a wake-up of cheap (resumed) steps.
//
// A step that has started runs to its end (an RSA signature is ~0.5 ms and
// cannot be split), so a wake-up may overrun its budget by one step.
//
// What is a step (native/loop_tls.cc): a handshake stream's read and the
// handshake work it makes, or, in a loop that speaks TLS, one accept with the
// JS that sets the connection up (transport, startTLS, protocol: ~40-70 us,
// a tenth of a full handshake's server work). Both are new-connection work:
// counted as established work, a burst of 256 accepts per wake-up held the
// busy connections for 15-40 ms and raised the budget it was part of. Both
// run at the end of the wake-up, after the established connections' records
// have gone to JS, and the JS the steps start is charge()d to them.
//
// Pure arithmetic on times the caller passes in (monotonic ns), so the rules
// are tested without a clock (native/test/test_handshake_ration.cc).
#ifndef IOREACTOR_HANDSHAKE_RATION_H
#define IOREACTOR_HANDSHAKE_RATION_H

#include <cstdint>

namespace ioreactor {

class HandshakeRation {
 public:
  static constexpr int64_t kShareNum = 1;
  static constexpr int64_t kShareDen = 2;
  static constexpr int64_t kFloorNs = 250'000;
  static constexpr int kMaxSteps = 64;
  static constexpr int64_t kAverageOver = 8;

  // A wake-up starts (its events are about to be dispatched).
  void begin(int64_t now);
  // May a handshake step start now? If so it is counted, and step_done()
  // must follow when it ends.
  bool allow(int64_t now);
  void step_done(int64_t now);
  // New-connection work done outside allow()/step_done() (the JS that steps
  // started): counted as step time, never as established work.
  void charge(int64_t ns) { steps_ns_ += ns > 0 ? ns : 0; }
  // The wake-up ends: its time less its steps' is established work, which
  // feeds the average. Without a begin() since the last end(): nothing.
  void end(int64_t now);

  // Step time the current wake-up may use (the share, or the floor).
  int64_t budget_ns() const;
  // Recent wake-ups' established work, on average.
  int64_t established_ns() const { return avg_established_ns_; }
  // A fixed budget instead of the share (tests: 0 is one step per wake-up,
  // INT64_MAX is kMaxSteps); negative restores the share.
  void set_fixed_budget(int64_t ns) { fixed_ns_ = ns; }

 private:
  bool open_ = false;
  int64_t wake_start_ = 0;
  int64_t step_start_ = 0;
  int64_t steps_ns_ = 0;  // this wake-up's finished steps
  int steps_ = 0;         // this wake-up's steps started
  int64_t avg_established_ns_ = 0;
  int64_t fixed_ns_ = -1;
};

}  // namespace ioreactor

#endif  // IOREACTOR_HANDSHAKE_RATION_H
