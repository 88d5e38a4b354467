// The adaptive window's gate (coalesce_gate.h), on made-up wake-ups and
// times: a lone client and a closed loop of 50 connections never open it
// however fast they go, a crowd of 1,000 (or 200) connections at one event
// per wake-up opens it after one timed epoch when events come at least one
// per window, and not when slower; it closes one epoch after the crowd goes
// quiet, and a slot's generation or a slot beyond the table counts once.
#include <cstdint>
#include <random>
#include <vector>

#include "check.h"
#include "coalesce_gate.h"

using namespace ioreactor;

namespace {

constexpr int kEpoch = CoalesceGate::kEpochWakeups;
constexpr int64_t kWindow = 50'000;  // ns
// The made-up clock, and the time between two wake-ups: one event per 25 µs
// (40k/s), two per window.
int64_t now = 0;
int64_t gap = 25'000;

uint64_t token(uint32_t slot, uint32_t gen = 1) { return (static_cast<uint64_t>(gen) << 32) | slot; }

// One wake-up with one event per slot given.
void wakeup(CoalesceGate& g, const std::vector<uint32_t>& slots) {
  std::vector<PollEvent> events;
  for (uint32_t s : slots) events.push_back(PollEvent{token(s), 1});
  now += gap;
  if (g.note(events.data(), static_cast<int>(events.size()))) g.end_epoch(now);
}

// `epochs` epochs of one-event wake-ups from slots drawn at random among `conns`.
void crowd(CoalesceGate& g, uint32_t conns, int epochs, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  for (int i = 0; i < epochs * kEpoch; ++i) wakeup(g, {static_cast<uint32_t>(rng() % conns)});
}

void test_closed_until_a_timed_epoch_ends() {
  CoalesceGate g(kWindow);
  check::that(!g.open(), "a new gate is closed");
  crowd(g, 1000, 1);
  check::that(!g.open(), "still closed after the first epoch (not timed)");
  std::mt19937 rng(7);
  for (int i = 0; i < kEpoch - 1; ++i) wakeup(g, {static_cast<uint32_t>(rng() % 1000)});
  check::that(!g.open(), "still closed before the second epoch ends");
  wakeup(g, {999});
  check::that(g.open(), "open once a timed epoch of a crowd ended");
}

void test_a_slow_crowd_never_opens() {
  CoalesceGate g(kWindow);
  gap = kWindow + 1'000;  // a little under one event per window
  crowd(g, 1000, 5);
  check::that(!g.open(), "1,000 connections at under one event per window");
  gap = kWindow / 2;
  crowd(g, 1000, 2);
  check::that(g.open(), "the same crowd at two events per window");
  CoalesceGate never;  // a window of 0 ns
  crowd(never, 1000, 5);
  check::that(!never.open(), "no window, never open");
}

void test_lone_client_never_opens() {
  CoalesceGate g(kWindow);
  for (int i = 0; i < 100 * kEpoch; ++i) wakeup(g, {3});
  check::that(!g.open(), "one connection, one event per wake-up");
  for (int i = 0; i < 100 * kEpoch; ++i) wakeup(g, {3, 3, 3, 3});
  check::that(!g.open(), "one connection, many events per wake-up");
}

void test_closed_loop_below_the_threshold_never_opens() {
  CoalesceGate g(kWindow);
  const uint32_t conns = CoalesceGate::kMinDistinct - 14;  // redis-benchmark's default 50
  std::vector<uint32_t> all;
  for (uint32_t s = 0; s < conns; ++s) all.push_back(s);
  for (int i = 0; i < 10 * kEpoch; ++i) wakeup(g, {static_cast<uint32_t>(i) % conns});
  check::that(!g.open(), "50 connections in turn, one event per wake-up");
  for (int i = 0; i < 10 * kEpoch; ++i) wakeup(g, all);
  check::that(!g.open(), "50 connections, every one in every wake-up");
}

void test_crowds_open() {
  CoalesceGate a(kWindow), b(kWindow);
  crowd(a, 1000, 5);
  check::that(a.open(), "1,000 connections, one event per wake-up");
  crowd(b, 200, 5);
  check::that(b.open(), "200 connections, one event per wake-up");
}

void test_closes_when_the_crowd_goes_quiet() {
  CoalesceGate g(kWindow);
  crowd(g, 1000, 3);
  check::that(g.open(), "open with the crowd");
  for (int i = 0; i < kEpoch - 1; ++i) wakeup(g, {5});
  check::that(g.open(), "kept open until the epoch of one connection ends");
  wakeup(g, {5});
  check::that(!g.open(), "closed one epoch after only one connection is left");
  crowd(g, 1000, 1, 2);
  check::that(g.open(), "open again when the crowd comes back");
}

void test_generation_and_aliasing_count_once() {
  CoalesceGate g(kWindow);
  // Every wake-up: slot 0 under a new generation, and slot kTableSize (which
  // shares slot 0's stamp): one connection as far as the gate can tell.
  for (int i = 0; i < 3 * kEpoch; ++i) {
    PollEvent events[2] = {{token(0, static_cast<uint32_t>(i + 1)), 1}, {token(CoalesceGate::kTableSize), 1}};
    now += gap;
    if (g.note(events, 2)) g.end_epoch(now);
  }
  check::that(!g.open(), "one slot under many generations, and its alias");
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all({{"closed until a timed epoch ends", test_closed_until_a_timed_epoch_ends},
                         {"a slow crowd never opens it", test_a_slow_crowd_never_opens},
                         {"a lone client never opens it", test_lone_client_never_opens},
                         {"a closed loop below the threshold never opens it", test_closed_loop_below_the_threshold_never_opens},
                         {"crowds open it", test_crowds_open},
                         {"it closes when the crowd goes quiet", test_closes_when_the_crowd_goes_quiet},
                         {"a generation or an alias counts once", test_generation_and_aliasing_count_once}},
                        argc, argv);
}
