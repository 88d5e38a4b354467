/**
 * realClock: an IReactorTime on Node's own timers, used by LoopingCall and
 * friends when no clock is given. One Node timer is armed at the earliest
 * deadline of a TimerQueue; the reactor's callLater can replace it.
 */
import { performance } from 'node:perf_hooks';
import { Failure } from '../failure';
import { log } from '../log';
import { DelayedCall, TimerQueue, type IReactorTime } from '../timers';

/** Epoch seconds from a monotonic clock (never jumps back). */
export function monotonicSeconds(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}

class NodeTimeScheduler implements IReactorTime {
  private timer: NodeJS.Timeout | null = null;
  private readonly queue: TimerQueue = new TimerQueue({
    now: monotonicSeconds,
    onEarliestChanged: (deadline) => this.arm(deadline),
    onError: (error) => log.failure('Unhandled error in a delayed call:', new Failure(error)),
  });

  seconds(): number {
    return monotonicSeconds();
  }

  callLater<A extends unknown[]>(seconds: number, fn: (...args: A) => unknown, ...args: A): DelayedCall {
    return this.queue.schedule(seconds, fn, args);
  }

  private arm(deadline: number | null): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (deadline === null) return;
    const ms = Math.max(0, (deadline - monotonicSeconds()) * 1000);
    this.timer = setTimeout(() => this.fire(), Math.ceil(ms));
  }

  private fire(): void {
    this.timer = null;
    this.queue.runUntil(monotonicSeconds());
    // Node may wake a little early; re-arm for what is still waiting.
    if (this.timer === null) this.arm(this.queue.earliest());
  }
}

/** The default IReactorTime: Node timers with monotonic epoch seconds. */
export const realClock: IReactorTime = new NodeTimeScheduler();
