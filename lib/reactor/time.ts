/**
 * The reactor's clock (IReactorTime): `seconds()` from a monotonic source and
 * `callLater` on the shared TimerQueue, with one Node timer armed at the
 * earliest deadline.
 */
import { performance } from 'node:perf_hooks';
import { Failure } from '../failure';
import { log } from '../log';
import type { IReactorTime } from '../interfaces';
import { DelayedCall, TimerQueue } from '../timers';

/**
 * When the process's performance clock started (epoch ms). It never changes,
 * and each read of the getter costs a brand check (two hasOwnProperty calls
 * per clock read with now()'s), paid per request by an HTTP channel's timer.
 */
const TIME_ORIGIN = performance.timeOrigin;

/** Epoch seconds from a monotonic clock (never jumps back). */
export function monotonicSeconds(): number {
  return (TIME_ORIGIN + performance.now()) / 1000;
}

/** Longest single Node timer (setTimeout clamps larger values to 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * callLater/seconds for a reactor. A pending call keeps the process alive as
 * setTimeout does; with nothing pending no Node timer is armed at all.
 */
export class ReactorClock implements IReactorTime {
  private readonly queue: TimerQueue;
  private timer: NodeJS.Timeout | null = null;
  /** The deadline the Node timer is armed for (seconds), or +Infinity. */
  private armedFor = Infinity;

  /** A clock with its own queue; errors thrown by calls are logged. */
  constructor() {
    this.queue = new TimerQueue({
      now: monotonicSeconds,
      onEarliestChanged: (deadline) => this.earliestChanged(deadline),
      onError: (error, call) => log.failure(`Unhandled error in delayed call ${call.toString()}`, new Failure(error)),
    });
  }

  /** The current time: epoch seconds from a monotonic clock. */
  seconds(): number {
    return monotonicSeconds();
  }

  /** Runs `fn(...args)` once, `seconds` from now; returns the DelayedCall. */
  callLater<A extends unknown[]>(seconds: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    return this.queue.schedule(seconds, fn, args);
  }

  /** Every waiting call, in the order they will run. */
  getDelayedCalls(): DelayedCall[] {
    return this.queue.getDelayedCalls();
  }

  /** Cancels every pending call (the reactor's stop(): pending calls never run). */
  cancelAll(): void {
    for (const call of this.queue.getDelayedCalls()) if (call.active()) call.cancel();
  }

  private earliestChanged(deadline: number | null): void {
    if (deadline === null) {
      this.disarm();
    } else if (deadline < this.armedFor) {
      // A later earliest deadline keeps the armed timer: it fires early,
      // runs nothing and re-arms, which is cheaper than re-arming per cancel.
      this.disarm();
      this.arm(deadline);
    }
  }

  private arm(deadline: number): void {
    const ms = Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil((deadline - monotonicSeconds()) * 1000)));
    this.armedFor = deadline;
    this.timer = setTimeout(this.fire, ms);
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    this.queue.runUntil(monotonicSeconds());
    const next = this.queue.earliest();
    if (next !== null && this.timer === null) this.arm(next);
  };
}
