// The handshake ration's arithmetic (handshake_ration.h), on made-up times:
// the share of recent established work, charged work counted as the steps',
// the floors (one step, kFloorNs), the step cap, the average's slow reaction
// to one long wake-up, and the fixed budgets the loop tests use.
#include <cstdint>

#include "check.h"
#include "handshake_ration.h"

using namespace ioreactor;

namespace {

constexpr int64_t kMs = 1'000'000;

// One wake-up of `established` ns with no handshake steps.
void busy_wakeup(HandshakeRation& r, int64_t* now, int64_t established) {
  r.begin(*now);
  *now += established;
  r.end(*now);
}

// Steps of `step` ns each, from `now`, until the ration refuses; returns how many ran.
int run_steps(HandshakeRation& r, int64_t* now, int64_t step) {
  int n = 0;
  while (r.allow(*now)) {
    *now += step;
    r.step_done(*now);
    ++n;
  }
  return n;
}

// Many wake-ups of `established` ns: the average settles on it.
void settle(HandshakeRation& r, int64_t* now, int64_t established) {
  for (int i = 0; i < 200; ++i) busy_wakeup(r, now, established);
}

void test_share_of_established_work() {
  HandshakeRation r;
  int64_t now = 0;
  settle(r, &now, 8 * kMs);
  check::that(r.established_ns() > 8 * kMs - kMs / 10, "the average settles on 8 ms");
  check::that(r.budget_ns() == r.established_ns() * HandshakeRation::kShareNum / HandshakeRation::kShareDen,
              "the budget is the share of it");
  r.begin(now);
  // 0.5 ms steps (an RSA signature each): steps start while under the budget, so
  // ceil(4 ms / 0.5 ms) of them.
  int steps = run_steps(r, &now, kMs / 2);
  check::eq(steps, static_cast<int>((r.budget_ns() + kMs / 2 - 1) / (kMs / 2)), "steps within the share");
  check::that(steps >= 7 && steps <= 8, "about 4 ms of steps after 8 ms wake-ups");
  r.end(now);
}

void test_steps_do_not_count_as_established() {
  HandshakeRation r;
  int64_t now = 0;
  settle(r, &now, 2 * kMs);
  int64_t before = r.established_ns();
  for (int i = 0; i < 50; ++i) {
    r.begin(now);
    run_steps(r, &now, kMs / 2);
    now += 2 * kMs;  // the same established work, plus the steps
    r.end(now);
  }
  check::that(r.established_ns() >= before - kMs / 100 && r.established_ns() <= before + kMs / 100,
              "a wake-up's steps are not counted as established work");
}

// Work charged to the new connections (the JS their steps started) is step
// time: it uses the wake-up's budget and is not established work.
void test_charged_work() {
  HandshakeRation r;
  int64_t now = 0;
  settle(r, &now, 4 * kMs);
  int64_t before = r.established_ns();
  r.begin(now);
  check::that(r.allow(now), "the first step");
  now += kMs / 10;
  r.step_done(now);
  now += 3 * kMs;
  r.charge(3 * kMs);  // its JS: more than the 2 ms budget
  check::that(!r.allow(now), "the budget is used up by what was charged");
  r.charge(-5);  // a clock that went backwards charges nothing
  now += 4 * kMs;
  r.end(now);
  check::that(r.established_ns() >= before - kMs / 100 && r.established_ns() <= before + kMs / 100,
              "the charged time is not counted as established work");
}

void test_floors_when_idle() {
  HandshakeRation r;
  int64_t now = 0;
  // Nothing else to do: each wake-up still runs kFloorNs of steps, so a
  // loop with only handshakes gives them its time.
  r.begin(now);
  check::eq(run_steps(r, &now, 50'000), static_cast<int>(HandshakeRation::kFloorNs / 50'000), "kFloorNs of cheap steps");
  r.end(now);
  // A step longer than the floor: still one per wake-up.
  for (int i = 0; i < 20; ++i) {
    r.begin(now);
    check::eq(run_steps(r, &now, 2 * kMs), 1, "one long step per wake-up");
    r.end(now);
  }
}

void test_one_step_however_busy() {
  HandshakeRation r;
  r.set_fixed_budget(0);
  int64_t now = 0;
  settle(r, &now, kMs);
  r.begin(now);
  check::eq(run_steps(r, &now, kMs), 1, "a zero budget still lets one step run");
  r.end(now);
}

void test_step_cap() {
  HandshakeRation r;
  r.set_fixed_budget(INT64_MAX);
  int64_t now = 0;
  r.begin(now);
  check::eq(run_steps(r, &now, 1000), HandshakeRation::kMaxSteps, "kMaxSteps cheap steps at most");
  r.end(now);
  r.begin(now);
  check::eq(run_steps(r, &now, 1000), HandshakeRation::kMaxSteps, "counted again each wake-up");
  r.end(now);
  r.set_fixed_budget(-1);
  check::eq(r.budget_ns(), HandshakeRation::kFloorNs, "negative restores the share (here: its floor)");
}

void test_one_long_wakeup_moves_little() {
  HandshakeRation r;
  int64_t now = 0;
  settle(r, &now, kMs);
  busy_wakeup(r, &now, 100 * kMs);  // a batch of accepts, a GC pause
  check::that(r.established_ns() < 14 * kMs, "one 100 ms wake-up moves the average by about 1/8 of it");
  settle(r, &now, kMs);
  check::that(r.established_ns() < kMs + kMs / 10, "and it settles back");
}

void test_end_without_begin() {
  HandshakeRation r;
  int64_t now = 5 * kMs;
  r.end(now);
  check::eq(r.established_ns(), 0, "an end() with no wake-up open adds nothing");
  check::that(r.allow(now), "a step outside a wake-up is allowed (it opens one)");
  r.step_done(now + kMs);
  r.end(now + kMs);
  check::eq(r.established_ns(), 0, "that wake-up was all step");
}

}  // namespace

int main(int argc, char** argv) {
  return check::run_all({{"a share of recent established work", test_share_of_established_work},
                         {"steps do not count as established work", test_steps_do_not_count_as_established},
                         {"charged work is step time", test_charged_work},
                         {"the floors when nothing else is busy", test_floors_when_idle},
                         {"one step however busy", test_one_step_however_busy},
                         {"the step cap", test_step_cap},
                         {"one long wake-up moves the average little", test_one_long_wakeup_moves_little},
                         {"end without begin", test_end_without_begin}},
                        argc, argv);
}
