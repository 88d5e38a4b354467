/**
 * Timed calls: DelayedCall and the TimerQueue that orders them. Shared by
 * task.Clock (deterministic time) and the reactor's callLater.
 *
 * The queue is a binary heap keyed by (deadline, sequence number), so calls
 * due at the same time run in the order they were scheduled. Every call knows
 * its heap index, so cancel, reset and delay are O(log n) and leave no
 * garbage behind. `onEarliestChanged` lets a reactor keep one Node timer armed
 * at the earliest deadline (lib/task/realtime.ts does exactly that: arm on
 * change, `runUntil(now())` when it fires, re-arm if Node woke early).
 */
import { AlreadyCalled, AlreadyCancelled } from './errors';
import type { IDelayedCall } from './interfaces';

/** Hooks and the clock a TimerQueue works with. */
export interface TimerQueueOptions {
  /** The current time in seconds. */
  now: () => number;
  /** Called with the new earliest deadline (or null when empty) whenever it changes. */
  onEarliestChanged?: (deadline: number | null) => void;
  /** Called when a call throws; the other due calls still run. Default: rethrow after the run. */
  onError?: (error: unknown, call: DelayedCall) => void;
}

/**
 * Throws TypeError for a non-number and RangeError for NaN or ±Infinity. One
 * non-finite deadline would poison the heap's order (NaN compares false with
 * everything), so no time enters the queue unchecked.
 */
export function checkSeconds(seconds: unknown, what: string): number {
  if (typeof seconds !== 'number') throw new TypeError(`${what}: seconds must be a number, got ${String(seconds)}`);
  if (!Number.isFinite(seconds)) throw new RangeError(`${what}: seconds must be finite, got ${seconds}`);
  return seconds;
}

/** Throws RangeError when a deadline computed from finite inputs overflowed (1e308 + 1e308). */
function checkDeadline(time: number, what: string): number {
  if (!Number.isFinite(time)) throw new RangeError(`${what}: the deadline is out of range (${time})`);
  return time;
}

/** A call scheduled on a TimerQueue (twisted.internet.base.DelayedCall). */
export class DelayedCall implements IDelayedCall {
  /** True once the call has run. */
  called = false;
  /** True once the call was cancelled. */
  cancelled = false;
  /** @internal Deadline in the queue's seconds. */
  time: number;
  /** @internal Tie-breaker: scheduling order. */
  seq: number;
  /** @internal Position in the heap, -1 when not queued. */
  index = -1;

  /** Use `TimerQueue.schedule` (or `callLater`) rather than this constructor. */
  constructor(
    private readonly queue: TimerQueue,
    time: number,
    seq: number,
    /** The function to call. */
    readonly func: (...args: never[]) => unknown,
    /** The arguments it will get. */
    readonly args: unknown[],
  ) {
    this.time = time;
    this.seq = seq;
  }

  /** The deadline, in the scheduler's seconds. */
  getTime(): number {
    return this.time;
  }

  /** True until the call has run or been cancelled. */
  active(): boolean {
    return !this.called && !this.cancelled;
  }

  /** Removes the call from its queue; AlreadyCancelled or AlreadyCalled when too late. */
  cancel(): void {
    this.checkActive();
    this.cancelled = true;
    this.queue.remove(this);
  }

  /** Reschedules to `seconds` from now. */
  reset(seconds: number): void {
    checkSeconds(seconds, 'DelayedCall.reset');
    this.checkActive();
    this.queue.reposition(this, checkDeadline(this.queue.now() + seconds, 'DelayedCall.reset'));
  }

  /** Reschedules `seconds` later than the current deadline. */
  delay(seconds: number): void {
    checkSeconds(seconds, 'DelayedCall.delay');
    this.checkActive();
    this.queue.reposition(this, checkDeadline(this.time + seconds, 'DelayedCall.delay'));
  }

  /** `<DelayedCall time=... called|cancelled>` for debugging. */
  toString(): string {
    const state = this.called ? ' called' : this.cancelled ? ' cancelled' : '';
    return `<DelayedCall time=${this.time} ${this.func.name || 'anonymous'}${state}>`;
  }

  private checkActive(): void {
    if (this.cancelled) throw new AlreadyCancelled('DelayedCall was already cancelled');
    if (this.called) throw new AlreadyCalled('DelayedCall was already called');
  }
}

function before(a: DelayedCall, b: DelayedCall): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/** A heap of DelayedCalls ordered by (deadline, scheduling order). */
export class TimerQueue {
  private readonly heap: DelayedCall[] = [];
  private seq = 0;
  private running = false;
  private lastEarliest: number | null = null;

  /** Uses `opts.now` as its clock; see TimerQueueOptions for the hooks. */
  constructor(private readonly opts: TimerQueueOptions) {}

  /** The queue's current time. */
  now(): number {
    return this.opts.now();
  }

  /** Number of calls waiting. */
  get size(): number {
    return this.heap.length;
  }

  /** The earliest deadline, or null when nothing is scheduled. */
  earliest(): number | null {
    return this.heap.length ? this.heap[0].time : null;
  }

  /** Schedules `fn(...args)` at `now() + seconds` (negative delays count as 0). */
  schedule<A extends unknown[]>(seconds: number, fn: (...args: A) => unknown, args: A): DelayedCall {
    checkSeconds(seconds, 'callLater');
    if (typeof fn !== 'function') throw new TypeError('callLater: fn must be a function');
    const time = checkDeadline(this.now() + Math.max(0, seconds), 'callLater');
    const call = new DelayedCall(this, time, this.seq++, fn as (...a: never[]) => unknown, args);
    this.insert(call);
    this.notify();
    return call;
  }

  /** Every waiting call, in the order they will run. */
  getDelayedCalls(): DelayedCall[] {
    return this.heap.slice().sort((a, b) => (before(a, b) ? -1 : 1));
  }

  /**
   * Runs every call due at or before `now`, including calls added during the
   * run that are already due. Returns how many ran. A call that throws goes
   * to `onError`; without one the error propagates at once and the calls
   * still due stay queued for the next run (Twisted's Clock.advance).
   */
  runUntil(now: number): number {
    let ran = 0;
    this.running = true;
    try {
      while (this.heap.length && this.heap[0].time <= now) {
        const call = this.heap[0];
        this.removeAt(0);
        call.called = true;
        ran++;
        try {
          (call.func as (...a: unknown[]) => unknown)(...call.args);
        } catch (error) {
          if (this.opts.onError === undefined) throw error;
          this.opts.onError(error, call);
        }
      }
    } finally {
      this.running = false;
      this.notify();
    }
    return ran;
  }

  /** @internal Takes a cancelled call out of the heap. */
  remove(call: DelayedCall): void {
    if (call.index < 0) return;
    this.removeAt(call.index);
    this.notify();
  }

  /** @internal Moves a call to a new deadline; it runs after calls already due then. */
  reposition(call: DelayedCall, time: number): void {
    if (call.index >= 0) this.removeAt(call.index);
    call.time = time;
    call.seq = this.seq++;
    this.insert(call);
    this.notify();
  }

  private notify(): void {
    if (this.running) return;
    const e = this.earliest();
    if (e === this.lastEarliest) return;
    this.lastEarliest = e;
    this.opts.onEarliestChanged?.(e);
  }

  private insert(call: DelayedCall): void {
    call.index = this.heap.length;
    this.heap.push(call);
    this.siftUp(call.index);
  }

  private removeAt(i: number): void {
    const heap = this.heap;
    const removed = heap[i];
    const last = heap.pop() as DelayedCall;
    removed.index = -1;
    if (i < heap.length) {
      heap[i] = last;
      last.index = i;
      this.siftDown(i);
      this.siftUp(last.index);
    }
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const item = heap[i];
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, heap[parent])) break;
      heap[i] = heap[parent];
      heap[i].index = i;
      i = parent;
    }
    heap[i] = item;
    item.index = i;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[i];
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && before(heap[r], heap[l]) ? r : l;
      if (!before(heap[child], item)) break;
      heap[i] = heap[child];
      heap[i].index = i;
      i = child;
    }
    heap[i] = item;
    item.index = i;
  }
}
