/**
 * One worker of `ioreactor serve`: its own reactor, the app's main(reactor,
 * argv) run as react() runs it, a graceful drain before shutdown, and the
 * listening sockets the supervisor holds taken over by listenTCP on their
 * port (or by the systemd: endpoint, through LISTEN_FDS).
 */
import * as path from 'path';
import type { IPv4Address, IPv6Address } from '../address';
import { pathToFileURL } from 'url';
import { Failure } from '../failure';
import { log } from '../log';
import { createReactor } from '../reactor/index';
import type { Reactor } from '../reactor/reactor';
import { react } from '../task/react';
import { Port } from '../tcp/port';
import { drainConnections } from './drain';
import { ENV, HeldSocket, SupervisorMessage, WorkerMessage } from './protocol';

type Main = (reactor: Reactor, argv: string[]) => unknown;

function send(m: WorkerMessage): void {
  if (process.send !== undefined && process.connected) process.send(m);
}

/** Connections open on, and accepted by, every listening port of `reactor`. */
export function portTotals(reactor: Reactor): { connections: number; accepts: number } {
  let connections = 0;
  let accepts = 0;
  for (const h of reactor.core.liveHandlers()) {
    if (!(h instanceof Port)) continue;
    const s = h.stats();
    connections += s.connections;
    accepts += s.accepts;
  }
  return { connections, accepts };
}

/** listenTCP on a port the supervisor holds adopts the held socket instead of binding its own. */
function takeHeldSockets(reactor: Reactor, held: HeldSocket[]): void {
  if (held.length === 0) return;
  process.env.LISTEN_PID = String(process.pid); // systemd's check: these fds are for this process
  const listenTCP = reactor.listenTCP.bind(reactor);
  reactor.listenTCP = (port, factory, opts) => {
    const h = port !== 0 ? held.find((s) => s.port === port) : undefined;
    if (h === undefined) return listenTCP(port, factory, opts);
    // An INET(6) socket: its addresses are IPv4/IPv6 ones, as listenTCP's are.
    return reactor.adoptStreamPort(h.fd, h.family === 6 ? 'INET6' : 'INET', factory) as Port<IPv4Address | IPv6Address>;
  };
}

async function loadMain(app: string): Promise<Main> {
  const file = path.resolve(app);
  let mod: { main?: unknown; default?: { main?: unknown } };
  try {
    mod = require(file) as typeof mod; // eslint-disable-line @typescript-eslint/no-require-imports
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_REQUIRE_ESM') throw e;
    mod = (await import(pathToFileURL(file).href)) as typeof mod;
  }
  const main = mod.main ?? mod.default?.main;
  if (typeof main !== 'function') throw new TypeError(`${app} does not export a main(reactor, argv) function`);
  return main as Main;
}

/** The worker process's entry: reads its environment, runs the app until the reactor stops. */
export function runWorker(): void {
  const env = process.env;
  const grace = Number(env[ENV.grace] ?? '10');
  const held = JSON.parse(env[ENV.listen] ?? '[]') as HeldSocket[];
  const args = JSON.parse(env[ENV.args] ?? '[]') as string[];
  const reactor = createReactor({ backend: env[ENV.backend] || undefined, shutdownTimeout: grace + 1 });
  reactor.addSystemEventTrigger('before', 'shutdown', () =>
    drainConnections(reactor, grace).addCallback((r) => {
      if (r.remaining > 0) log.emit('warn', `worker ${env[ENV.id]}: ${r.remaining} of ${r.connections} connections still open after ${grace} s; dropping them`);
      return undefined;
    }),
  );
  takeHeldSockets(reactor, held);
  process.on('message', (m: SupervisorMessage) => {
    if (m?.t === 'stats') send({ t: 'stats', ...portTotals(reactor) });
  });
  // The supervisor is gone (killed): stop as if it had said so.
  process.on('disconnect', () => {
    try {
      reactor.stop();
    } catch {
      // not running yet, or already stopping
    }
  });
  loadMain(env[ENV.app] ?? '').then(
    (main) => {
      let threw = false;
      react(
        (r: Reactor) => {
          try {
            return main(r, args);
          } catch (e) {
            threw = true; // react logs it and stops: this worker is not ready, it is dying
            throw e;
          }
        },
        [],
        reactor,
      );
      if (!threw) reactor.callWhenRunning(() => send({ t: 'ready' }));
    },
    (e: unknown) => {
      log.failure(`worker ${env[ENV.id]}: cannot load ${env[ENV.app]}`, new Failure(e));
      process.exit(1);
    },
  );
}
