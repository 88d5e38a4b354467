/**
 * Idle timeouts for any protocol (twisted.protocols.policies.TimeoutMixin):
 * `class P extends TimeoutMixin(LineReceiver)` gains setTimeout(period),
 * resetTimeout() and timeoutConnection(). The timer runs on `clock` (the
 * default reactor, or a task.Clock in tests) and, unlike Twisted's, is also
 * cancelled when the connection is lost, so a closed connection leaves
 * nothing armed.
 */
import type { Failure } from '../failure';
import type { Protocol } from '../protocol';
import { reactor } from '../reactor/index';
import type { IDelayedCall, IReactorTime } from '../interfaces';

/** What TimeoutMixin adds to a protocol. */
export interface ITimeoutMixin {
  /** The idle period in seconds, or null when no timeout is set. */
  timeOut: number | null;
  /** Where the timer is scheduled: the default reactor unless set (a task.Clock in tests). */
  clock: IReactorTime;
  /** Sets (or with null clears) the idle timeout, restarting the timer; returns the previous period. */
  setTimeout(period: number | null): number | null;
  /** Restarts the timer from now (call it whenever there is activity, e.g. in dataReceived). */
  resetTimeout(): void;
  /** The connection was idle for timeOut seconds: aborts it (loseConnection where it cannot abort). Override for another response. */
  timeoutConnection(): void;
}

/** The pending timer of each protocol, kept off the class so its type stays plain. */
const timers = new WeakMap<object, IDelayedCall>();

function checkPeriod(period: number | null): void {
  if (period !== null && (typeof period !== 'number' || !Number.isFinite(period) || period < 0)) {
    throw new RangeError(`setTimeout: period must be null or a finite number of seconds >= 0, got ${String(period)}`);
  }
}

function cancelTimer(p: object): void {
  const call = timers.get(p);
  timers.delete(p);
  if (call !== undefined && call.active()) call.cancel();
}

/**
 * Returns a subclass of `Base` (a protocol class constructed without
 * arguments, as factories build them) with TimeoutMixin's methods.
 */
export function TimeoutMixin<B extends new () => Protocol>(Base: B): new () => InstanceType<B> & ITimeoutMixin {
  class Timeout extends (Base as new () => Protocol) implements ITimeoutMixin {
    timeOut: number | null = null;
    clock: IReactorTime = reactor;

    setTimeout(period: number | null): number | null {
      checkPeriod(period);
      const prev = this.timeOut;
      this.timeOut = period;
      const call = timers.get(this);
      if (call !== undefined && call.active()) {
        if (period === null) cancelTimer(this);
        else call.reset(period);
      } else if (period !== null) {
        timers.set(this, this.clock.callLater(period, () => {
          timers.delete(this);
          this.timeoutConnection();
        }));
      }
      return prev;
    }

    resetTimeout(): void {
      const call = timers.get(this);
      if (this.timeOut !== null && call !== undefined && call.active()) call.reset(this.timeOut);
    }

    timeoutConnection(): void {
      const t: unknown = this.connected ? this.transport : null;
      if (t === null || t === undefined) return;
      // Transports that can abort do (TCP, UNIX); others close after flushing.
      const abortable = t as { abortConnection?: () => void; loseConnection(): void };
      if (typeof abortable.abortConnection === 'function') abortable.abortConnection();
      else abortable.loseConnection();
    }

    override connectionLost(reason: Failure): void {
      cancelTimer(this);
      super.connectionLost(reason);
    }

  }
  return Timeout as unknown as new () => InstanceType<B> & ITimeoutMixin;
}
