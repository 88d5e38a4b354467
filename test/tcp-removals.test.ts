/**
 * Removing many connections at once, every backend: any
 * number of removals made in one turn of Node's loop, outside any reactor
 * callback, cost O(1) kernel waits. On poll, each remove() used to wait for
 * the waiter's poll() in flight, which then polled again at once: N removals
 * cost N wake-ups and N polls over every fd (quadratic). Counted, not timed
 * (the time is measured by bench/poll-removals.js).
 */
import * as net from 'net';
import { IPv4Address } from '../lib/address';
import { createReactor, Reactor } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { openFdCount } from './helpers/fds';
import { keeping, Recorder, tcpOf, until } from './helpers/tcp';

jest.setTimeout(30000);

const N = 400;

/** Runs fn from a timer: outside every reactor callback, as user code would. */
function fromTimer<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(fn()), 1));
}

forEachBackend('Removals', (backend) => {
  let r: Reactor;
  let clients: net.Socket[] = [];
  let fds0: number;
  beforeEach(() => {
    r = createReactor({ backend });
    r.backend; // open the native loop before counting fds
    fds0 = openFdCount();
  });
  afterEach(async () => {
    for (const c of clients) c.destroy();
    clients = [];
    r.disconnectAll();
    await until(() => openFdCount() <= fds0, 5000, 'fds to close');
    r.close();
  });

  /** A server with N connections from Node clients; its protocols. */
  async function connected(): Promise<Recorder[]> {
    const f = keeping(Recorder);
    const port = r.listenTCP(0, f, { interface: '127.0.0.1', backlog: 1024 });
    const portNo = (port.getHost() as IPv4Address).port;
    for (let i = 0; i < N; i++) clients.push(net.connect(portNo, '127.0.0.1').on('error', () => {}));
    await until(() => f.built.length === N, 10000, `${N} connections`);
    await port.stopListening();
    return f.built;
  }

  it(`aborting ${N / 2} connections in one turn costs O(1) kernel waits`, async () => {
    const conns = await connected();
    const waits = await fromTimer(() => {
      const before = r.stats().kernelWaits;
      for (const p of conns.slice(0, N / 2)) tcpOf(p).abortConnection();
      return r.stats().kernelWaits - before;
    });
    expect(waits).toBeLessThanOrEqual(2);
    // The waiter polls again afterwards: every kept connection still hears its peer.
    const kept = conns.slice(N / 2);
    for (const c of clients) c.write('x');
    await until(() => kept.every((p) => p.bytes.length === 1), 10000, 'a byte on every kept connection');
  });

  it(`disconnectAll with ${N} connections costs O(1) kernel waits`, async () => {
    await connected();
    const waits = await fromTimer(() => {
      const before = r.stats().kernelWaits;
      r.disconnectAll();
      return r.stats().kernelWaits - before;
    });
    expect(waits).toBeLessThanOrEqual(2);
  });
});
