/**
 * Clock: deterministic time for tests (twisted.internet.task.Clock). Time
 * moves only when `advance` or `pump` says so.
 */
import type { IReactorTime } from '../interfaces';
import { checkSeconds, DelayedCall, TimerQueue } from '../timers';

/** An IReactorTime whose time only moves when told to. */
export class Clock implements IReactorTime {
  private now = 0;
  private readonly queue = new TimerQueue({ now: () => this.now });

  /** The current time in seconds (starts at 0); setting it takes a finite number (RangeError otherwise). */
  get rightNow(): number {
    return this.now;
  }
  /** Moves the clock to `seconds` without running the calls that fall due (advance() runs them). */
  set rightNow(seconds: number) {
    this.now = checkSeconds(seconds, 'Clock.rightNow');
  }

  /** The current time in seconds. */
  seconds(): number {
    return this.rightNow;
  }

  /** Schedules `fn(...args)` at `seconds()` + `seconds`. */
  callLater<A extends unknown[]>(seconds: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    return this.queue.schedule(seconds, fn, args);
  }

  /** The calls still waiting, earliest first. */
  getDelayedCalls(): DelayedCall[] {
    return this.queue.getDelayedCalls();
  }

  /**
   * Moves time forward by `amount` and runs every call now due, including calls
   * they schedule that are already due. A call that throws stops the run there,
   * as in Twisted: the error propagates and the calls still due wait for the next advance.
   */
  advance(amount: number): void {
    if (checkSeconds(amount, 'Clock.advance') < 0) throw new RangeError(`Clock.advance: amount must be >= 0, got ${amount}`);
    this.rightNow = this.now + amount;
    this.queue.runUntil(this.now);
  }

  /** Advances by each amount in turn. */
  pump(timings: Iterable<number>): void {
    for (const t of timings) this.advance(t);
  }
}
