/**
 * System event triggers (Twisted's addSystemEventTrigger): for each event
 * type ('startup', 'shutdown', ...) three phases run in order, and a trigger
 * that returns a Deferred or Promise is waited for before the next phase.
 */
import { isThenable } from '../defer/deferred';
import { Failure } from '../failure';
import { log } from '../log';

/** The three phases of a system event, in the order they run. */
export type TriggerPhase = 'before' | 'during' | 'after';

/** The handle addSystemEventTrigger returns, for removeSystemEventTrigger. */
export interface TriggerId {
  /** The phase the trigger runs in. */
  readonly phase: TriggerPhase;
  /** The event type it was added for, such as 'shutdown'. */
  readonly eventType: string;
}

interface Trigger extends TriggerId {
  readonly fn: (...args: unknown[]) => unknown;
  readonly args: unknown[];
}

const PHASES: readonly TriggerPhase[] = ['before', 'during', 'after'];

/** Holds the triggers of every event type and fires them phase by phase. */
export class SystemEventTriggers {
  private readonly triggers = new Map<string, Trigger[]>();

  /** Adds `fn(...args)` to run in `phase` of `eventType`; returns its id. */
  add<A extends unknown[]>(phase: TriggerPhase, eventType: string, fn: (...args: A) => unknown, args: A): TriggerId {
    if (!PHASES.includes(phase)) throw new TypeError(`addSystemEventTrigger: phase must be 'before', 'during' or 'after', got ${String(phase)}`);
    if (typeof eventType !== 'string' || eventType === '') throw new TypeError('addSystemEventTrigger: eventType must be a non-empty string');
    if (typeof fn !== 'function') throw new TypeError('addSystemEventTrigger: fn must be a function');
    const t: Trigger = { phase, eventType, fn: fn as (...a: unknown[]) => unknown, args };
    const list = this.triggers.get(eventType);
    if (list) list.push(t);
    else this.triggers.set(eventType, [t]);
    return t;
  }

  /** Removes a trigger added earlier; throws when the id is unknown or already ran. */
  remove(id: TriggerId): void {
    const list = this.triggers.get(id?.eventType);
    const i = list ? list.indexOf(id as Trigger) : -1;
    if (!list || i < 0) throw new RangeError('removeSystemEventTrigger: no such trigger (already removed or already run)');
    list.splice(i, 1);
  }

  /**
   * Runs every trigger of `eventType`, phase by phase, waiting for returned
   * Deferreds/Promises before the next phase. `onPhase` runs as each phase
   * starts, before its triggers (the reactor's own work). Errors are logged.
   * With `timeout` (seconds), waiting over all phases together stops after
   * that long: what is still pending is logged and left behind.
   */
  async fire(eventType: string, onPhase?: (phase: TriggerPhase) => void, timeout = Infinity): Promise<void> {
    const deadline = Date.now() + timeout * 1000;
    for (const phase of PHASES) {
      try {
        onPhase?.(phase);
      } catch (e) {
        log.failure(`Error starting the ${phase} ${eventType} phase`, new Failure(e));
      }
      const list = this.triggers.get(eventType) ?? [];
      const now = list.filter((t) => t.phase === phase);
      this.triggers.set(eventType, list.filter((t) => t.phase !== phase));
      const waits: PromiseLike<unknown>[] = [];
      for (const t of now) {
        try {
          const r = t.fn(...t.args);
          if (isThenable(r)) waits.push(r);
        } catch (e) {
          log.failure(`Error in ${eventType} ${phase} trigger`, new Failure(e));
        }
      }
      const settled = Promise.allSettled(waits).then((results) => {
        for (const r of results) {
          if (r.status === 'rejected') log.failure(`Error in ${eventType} ${phase} trigger`, new Failure(r.reason));
        }
        return true;
      });
      if (!(await withinDeadline(settled, deadline))) {
        log.emit('warn', `The ${phase} ${eventType} triggers did not finish within ${timeout} s; going on without them.`);
      }
    }
  }
}

/** Waits for `p` until `deadline` (Date.now() ms); true when it settled in time. */
async function withinDeadline(p: Promise<boolean>, deadline: number): Promise<boolean> {
  if (deadline === Infinity) return p;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}
