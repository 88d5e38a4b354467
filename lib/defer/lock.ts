/**
 * DeferredLock and DeferredSemaphore: mutual exclusion and bounded
 * concurrency without threads (twisted.internet.defer).
 */
import { Deferred } from './deferred';
import { maybeDeferred, removeItem } from './helpers';

/** What lock and semaphore share: a queue of waiters and `run`. */
abstract class ConcurrencyPrimitive<Self> {
  /** Deferreds waiting to acquire, first come first served. */
  protected readonly waiting: Deferred<Self>[] = [];

  /** Fires with this primitive once acquired; cancelling it leaves the queue. */
  abstract acquire(): Deferred<Self>;
  /** Gives back what `acquire` took, waking the next waiter. */
  abstract release(): void;

  /** Acquires, runs `fn(...args)`, releases when it (or its Deferred/Promise) finishes. */
  run<T, A extends unknown[]>(fn: (...args: A) => T | Deferred<T> | PromiseLike<T>, ...args: A): Deferred<T> {
    return this.acquire().addCallback(() =>
      maybeDeferred(fn, ...args).addBoth((result) => {
        this.release();
        return result as T; // a Failure returned here keeps the chain failing
      }),
    );
  }

  /** Number of acquirers waiting. */
  get waitingCount(): number {
    return this.waiting.length;
  }

  /** A new waiter whose cancel removes it from the queue. */
  protected newWaiter(): Deferred<Self> {
    return new Deferred<Self>((d) => removeItem(this.waiting, d));
  }
}

/** A lock for event-driven code: `acquire()` fires when it is yours. */
export class DeferredLock extends ConcurrencyPrimitive<DeferredLock> {
  /** True while someone holds the lock. */
  locked = false;

  /** Fires with the lock once acquired (at once when free). */
  acquire(): Deferred<DeferredLock> {
    const d = this.newWaiter();
    if (this.locked) this.waiting.push(d);
    else {
      this.locked = true;
      d.callback(this);
    }
    return d;
  }

  /** Releases; the first waiter, if any, gets the lock. */
  release(): void {
    if (!this.locked) throw new Error('DeferredLock.release: the lock is not held');
    this.locked = false;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.locked = true;
      next.callback(this);
    }
  }
}

/** A semaphore: at most `limit` holders at once. */
export class DeferredSemaphore extends ConcurrencyPrimitive<DeferredSemaphore> {
  /** Tokens left: `limit` minus the current holders. */
  tokens: number;
  /** The most holders allowed at once. */
  readonly limit: number;

  /** `tokens` is the initial and maximum count (at least 1). */
  constructor(tokens: number) {
    super();
    if (!Number.isInteger(tokens) || tokens < 1) throw new RangeError('DeferredSemaphore requires tokens >= 1');
    this.tokens = tokens;
    this.limit = tokens;
  }

  /** True when no token is left. */
  get locked(): boolean {
    return this.tokens === 0;
  }

  /** Fires with the semaphore once a token is taken (at once when one is free). */
  acquire(): Deferred<DeferredSemaphore> {
    const d = this.newWaiter();
    if (this.tokens === 0) this.waiting.push(d);
    else {
      this.tokens--;
      d.callback(this);
    }
    return d;
  }

  /** Gives a token back; the first waiter, if any, takes it. */
  release(): void {
    if (this.tokens >= this.limit) throw new Error('DeferredSemaphore.release: released too many times');
    this.tokens++;
    const next = this.waiting.shift();
    if (next !== undefined) {
      this.tokens--;
      next.callback(this);
    }
  }
}
