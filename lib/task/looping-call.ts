/**
 * LoopingCall: call a function every `interval` seconds on an IReactorTime
 * (twisted.internet.task.LoopingCall). Intervals are counted from `start`,
 * so a slow call skips intervals instead of drifting.
 */
import { Deferred } from '../defer/deferred';
import { maybeDeferred } from '../defer/helpers';
import type { Failure } from '../failure';
import type { IDelayedCall, IReactorTime } from '../interfaces';
import { reactor } from '../reactor/index';
import { checkSeconds } from '../timers';

/** Calls `fn(...args)` every `interval` seconds until stopped or until it fails. */
export class LoopingCall<A extends unknown[] = []> {
  /** The scheduler: the default reactor unless set (a task.Clock in tests, another reactor). */
  clock: IReactorTime = reactor;
  /** True between `start` and `stop` (or a failure). */
  running = false;
  /** Seconds between calls, set by `start`. */
  interval: number | null = null;
  /** When `start` (or `reset`) was called, in the clock's seconds. */
  starttime: number | null = null;
  /** The next scheduled call, or null while none is waiting. */
  call: IDelayedCall | null = null;
  private deferred: Deferred<this> | null = null;
  private runAtStart = false;
  private realLastTime: number | null = null;
  private readonly fn: (...args: A) => unknown;
  private readonly args: A;

  /** Calls `fn(...args)` once started; `fn` may return a Deferred or Promise to wait on. */
  constructor(fn: (...args: A) => unknown, ...args: A) {
    this.fn = fn;
    this.args = args;
  }

  /**
   * A LoopingCall calling `fn(count)`, where count is how many intervals passed
   * since the last call (more than 1 when some were skipped).
   */
  static withCount(fn: (count: number) => unknown): LoopingCall<[]> {
    const lc: LoopingCall<[]> = new LoopingCall(() => lc.countIntervals(fn));
    return lc;
  }

  /** Starts calling every `interval` seconds (first call at once when `now`); fires with this on stop. */
  start(interval: number, now = true): Deferred<this> {
    if (this.running) throw new Error('LoopingCall.start: already running');
    if (checkSeconds(interval, 'LoopingCall.start') < 0) throw new RangeError(`LoopingCall.start: interval must be >= 0, got ${interval}`);
    this.running = true;
    const d = new Deferred<this>();
    this.deferred = d;
    this.starttime = this.clock.seconds();
    this.interval = interval;
    this.runAtStart = now;
    this.realLastTime = null;
    if (now) this.runOnce();
    else this.scheduleFrom(this.starttime);
    return d;
  }

  /** Stops; the Deferred from `start` fires with this (after a pending call's Deferred, if one is running). */
  stop(): void {
    if (!this.running) throw new Error('LoopingCall.stop: not running');
    this.running = false;
    if (this.call !== null) {
      // The reactor's stop() may have cancelled it already.
      if (this.call.active()) this.call.cancel();
      this.call = null;
      this.finish((d) => d.callback(this));
    }
  }

  /** Restarts the interval count from now (the next call is `interval` from now). */
  reset(): void {
    if (!this.running) throw new Error('LoopingCall.reset: not running');
    if (this.call !== null) {
      if (this.call.active()) this.call.cancel();
      this.call = null;
      this.starttime = this.clock.seconds();
      this.scheduleFrom(this.starttime);
    }
  }

  private finish(fire: (d: Deferred<this>) => void): void {
    const d = this.deferred;
    this.deferred = null;
    if (d !== null) fire(d);
  }

  private runOnce(): void {
    this.call = null;
    maybeDeferred(this.fn, ...this.args).addCallbacks(
      () => {
        if (this.running) this.scheduleFrom(this.clock.seconds());
        else this.finish((d) => d.callback(this));
      },
      (failure: Failure) => {
        this.running = false;
        this.finish((d) => d.errback(failure));
      },
    );
  }

  private scheduleFrom(when: number): void {
    const interval = this.interval as number;
    let delay = 0;
    if (interval > 0) {
      const runningFor = when - (this.starttime as number);
      delay = interval - (runningFor % interval);
      if (when === when + delay) delay = interval;
    }
    this.call = this.clock.callLater(delay, () => this.runOnce());
  }

  private intervalOf(t: number): number {
    return Math.floor((t - (this.starttime as number)) / (this.interval as number));
  }

  private countIntervals(fn: (count: number) => unknown): unknown {
    const now = this.clock.seconds();
    const interval = this.interval as number;
    if (interval === 0) {
      this.realLastTime = now;
      return fn(1);
    }
    let last = this.realLastTime;
    if (last === null) {
      last = this.starttime as number;
      if (this.runAtStart) last -= interval;
    }
    const count = this.intervalOf(now) - this.intervalOf(last);
    if (count > 0) {
      this.realLastTime = now;
      return fn(count);
    }
    return undefined;
  }
}
