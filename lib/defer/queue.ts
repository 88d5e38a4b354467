/**
 * DeferredQueue: a queue whose `get` returns a Deferred that fires when an
 * item is there (twisted.internet.defer.DeferredQueue).
 */
import { QueueOverflow, QueueUnderflow } from '../errors';
import { Deferred } from './deferred';
import { removeItem, succeed } from './helpers';

/** An event-driven queue with optional bounds on items and on waiting getters. */
export class DeferredQueue<T> {
  /** Getters waiting for an item, first come first served. */
  readonly waiting: Deferred<T>[] = [];
  /** Items put with no getter waiting. */
  readonly pending: T[] = [];

  /** `size`: most items held (QueueOverflow past it); `backlog`: most waiting getters (QueueUnderflow). */
  constructor(
    /** Most items held at once; null for no limit. */
    readonly size: number | null = null,
    /** Most getters waiting at once; null for no limit. */
    readonly backlog: number | null = null,
  ) {}

  /** Hands `item` to the first waiting getter, or holds it; QueueOverflow when full. */
  put(item: T): void {
    const getter = this.waiting.shift();
    if (getter !== undefined) getter.callback(item);
    else if (this.size === null || this.pending.length < this.size) this.pending.push(item);
    else throw new QueueOverflow(`DeferredQueue already holds ${this.size} items`);
  }

  /** A Deferred of the next item; cancelling it leaves the queue. QueueUnderflow past backlog. */
  get(): Deferred<T> {
    if (this.pending.length > 0) return succeed(this.pending.shift() as T);
    if (this.backlog !== null && this.waiting.length >= this.backlog) {
      throw new QueueUnderflow(`DeferredQueue already has ${this.backlog} getters waiting`);
    }
    const d = new Deferred<T>((me) => removeItem(this.waiting, me));
    this.waiting.push(d);
    return d;
  }
}
