/**
 * The two checks run after every hostile/re-entrancy/lifetime scenario: the
 * process is idle when nothing happens (CPU over a quiet second), and every fd
 * a scenario opened is closed again (the /proc/self/fd count is back to what
 * it was).
 */
import * as fs from 'fs';
import { openFdCount } from './fds';

/** fd number -> what it points at (socket:[inode], anon_inode:[eventpoll], a path), for error messages. */
function fdTargets(): Map<string, string> {
  const out = new Map<string, string>();
  if (!fs.existsSync('/proc/self/fd')) return out; // no /proc: counts only
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      out.set(fd, fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the directory's own fd, gone by now
    }
  }
  return out;
}

/** What differs between two fd tables: `+fd target` opened since, `-fd target` closed since. */
function fdDiff(before: Map<string, string>, after: Map<string, string>): string {
  const out: string[] = [];
  for (const [fd, t] of after) if (before.get(fd) !== t) out.push(`+${fd} ${t}`);
  for (const [fd, t] of before) if (after.get(fd) !== t) out.push(`-${fd} ${t}`);
  return out.join(', ');
}

/** Fraction of one core this process used over `ms` of wall time with nothing to do. */
export async function idleCpuFraction(ms = 1000): Promise<number> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  // A timer is the only thing this process waits for: everything else is the reactor's.
  await new Promise((resolve) => setTimeout(resolve, ms));
  const used = process.cpuUsage(c0);
  const wallUs = Number(process.hrtime.bigint() - t0) / 1000;
  return (used.user + used.system) / wallUs;
}

/**
 * Asserts the process uses under `limit` of a core over `ms` of quiet (default:
 * < 5% over 1 s). What it looks for is CPU that does not stop: a spinning fd,
 * a short-interval timer. A one-off cost (V8 collecting what the scenario just
 * freed, on its own threads) is not that, so a window over the limit is
 * measured again, up to three windows in all, and the best one counts.
 */
export async function expectIdleCpu(limit = 0.05, ms = 1000): Promise<void> {
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    const used = await idleCpuFraction(ms);
    if (used < limit) return;
    seen.push(used);
  }
  const pct = seen.map((u) => `${(u * 100).toFixed(1)}%`).join(', ');
  throw new Error(`idle CPU ${pct} of a core in three windows of ${ms} ms, limit ${(limit * 100).toFixed(0)}%`);
}

/** The open-fd count at a point in time, to compare against later. */
export interface FdBaseline {
  /** /proc/self/fd entries when the baseline was taken. */
  readonly count: number;
  /**
   * Waits for `closing` (close events of things that close asynchronously,
   * such as Node sockets), lets the event loop turn a few times for closes
   * queued behind them, then asserts the count is exactly the baseline.
   */
  expectBack(closing?: Iterable<PromiseLike<unknown>>): Promise<void>;
}

/** Turns of the event loop allowed after the awaited events for closes queued behind them. */
const SETTLE_TURNS = 10;

/**
 * Waits until the fd count has not changed for a few turns of the event loop
 * (closes still in flight from earlier work finish first); returns it.
 */
export async function settledFdCount(): Promise<number> {
  let last = openFdCount();
  for (let i = 0, same = 0; i < 50 && same < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    const now = openFdCount();
    same = now === last ? same + 1 : 0;
    last = now;
  }
  return last;
}

/** Takes an fd baseline once closes still in flight have finished. */
export async function fdBaseline(): Promise<FdBaseline> {
  const count = await settledFdCount();
  const targets = fdTargets();
  return {
    count,
    async expectBack(closing: Iterable<PromiseLike<unknown>> = []): Promise<void> {
      await Promise.all(closing);
      let now = openFdCount();
      for (let i = 0; i < SETTLE_TURNS && now !== count; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        now = openFdCount();
      }
      if (now !== count) {
        const what = now > count ? 'leaked' : 'closed';
        throw new Error(`open fds: ${now}, baseline ${count} (${what} ${Math.abs(now - count)}: ${fdDiff(targets, fdTargets())})`);
      }
    },
  };
}

/** A promise that settles with a Node socket's (or child's) 'close' event; resolves at once if already closed. */
export function closed(emitter: { once(ev: 'close', fn: () => void): unknown; destroyed?: boolean; closed?: boolean }): Promise<void> {
  if (emitter.closed === true) return Promise.resolve();
  return new Promise((resolve) => emitter.once('close', () => resolve()));
}

/**
 * Opens and closes one reactor connection on `backend` so the fds Node and
 * jest open lazily on first use (the addon, DNS, the inspector...) are open
 * before a baseline is taken.
 */
export async function warmUp(backend: string): Promise<void> {
  const { createReactor } = await import('../../lib/reactor');
  const { Factory, Protocol } = await import('../../lib/protocol');
  const r = createReactor({ backend });
  const made = new Promise<void>((resolve) => {
    const f = new Factory();
    f.buildProtocol = () => Object.assign(new Protocol(), { connectionMade: resolve });
    const port = r.listenTCP(0, f, { interface: '127.0.0.1' });
    r.connectTCP('127.0.0.1', (port.getHost() as { port: number }).port, Factory.forProtocol(Protocol));
  });
  await made;
  r.close();
  await settledFdCount();
}

/** Resolves like `p`, or rejects naming `what` after `ms`, so a scenario's cleanup runs before jest's own timeout. */
export function withTimeout<T>(p: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([Promise.resolve(p), late]).finally(() => clearTimeout(timer));
}
