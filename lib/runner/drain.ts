/**
 * Graceful shutdown of a server: stop accepting on every listening port,
 * tell each accepted connection's protocol (IGracefulShutdown), and wait for
 * those connections to close, up to a deadline, then drop the rest.
 * `ioreactor serve` runs it as a 'before' 'shutdown' trigger in every
 * worker, so reactor.stop() (SIGTERM) drains first.
 */
import { Deferred } from '../defer';
import { DeferredList } from '../defer/list';
import { Failure } from '../failure';
import type { IGracefulShutdown } from '../interfaces';
import { log } from '../log';
import type { Reactor } from '../reactor/reactor';
import { Port } from '../tcp/port';
import { StreamTransport } from '../transport/stream';

/** What drainConnections found and did. */
export interface DrainResult {
  /** Listening ports closed. */
  ports: number;
  /** Connections open when the drain began. */
  connections: number;
  /** Connections still open when the deadline passed, and dropped then (0 when all closed in time). */
  remaining: number;
}

function isGraceful(p: unknown): p is IGracefulShutdown {
  return typeof (p as Partial<IGracefulShutdown> | null)?.gracefulShutdown === 'function';
}

/**
 * Stops every listening port of `reactor`, calls gracefulShutdown() on the
 * protocol of every connection they accepted, and fires once all those
 * connections have closed or `timeout` seconds have passed, whichever comes
 * first. At the deadline the connections still open are dropped
 * (abortConnection) and counted in `remaining`. Connections the reactor
 * made itself, to a database say, are neither waited for nor dropped.
 * Never fails: a protocol whose hook throws is logged and waited for like
 * the rest.
 */
export function drainConnections(reactor: Reactor, timeout: number): Deferred<DrainResult> {
  if (typeof timeout !== 'number' || !(timeout >= 0)) throw new TypeError(`drainConnections: timeout must be a number of seconds >= 0, got ${String(timeout)}`);
  const handlers = reactor.core.liveHandlers();
  const ports = handlers.filter((h): h is Port => h instanceof Port);
  for (const p of ports) void p.stopListening();
  const ours = handlers.filter((h): h is StreamTransport => h instanceof StreamTransport && ports.includes(h.owner as Port));
  for (const t of ours) {
    const protocol: unknown = t.protocol;
    if (!isGraceful(protocol)) continue;
    try {
      protocol.gracefulShutdown();
    } catch (e) {
      log.failure(`gracefulShutdown of ${String(protocol?.constructor?.name)} raised`, new Failure(e));
    }
  }
  const result = new Deferred<DrainResult>();
  const open = (): number => ports.reduce((n, p) => n + p.stats().connections, 0);
  const finish = (late: boolean): void => {
    if (result.called) return;
    if (deadline.active()) deadline.cancel();
    const remaining = open();
    // The grace is over: what is still open is dropped (abortConnection: unsent bytes go too), as `serve` promises.
    if (late) for (const t of ours) if (t.connected) t.abortConnection();
    result.callback({ ports: ports.length, connections: ours.length, remaining });
  };
  const deadline = reactor.callLater(timeout, () => finish(true));
  new DeferredList(ports.map((p) => p.whenConnectionsClosed())).addCallback(() => finish(false));
  return result;
}
