/**
 * WebSocket under drainConnections (IGracefulShutdown): an open connection
 * gets a close frame with 1001 (going away), the peer answers it, and the
 * drain ends with nothing left open. The peer is the `ws` package.
 */
import WebSocket from 'ws';
import type { Reactor } from '../lib/reactor';
import { drainConnections, DrainResult } from '../lib/runner/drain';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { serveEcho } from './helpers/websocket';

jest.setTimeout(15000);

forEachBackend('websocket: graceful shutdown', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  it('closes open connections with 1001 and the drain finds none left', async () => {
    const { port, log } = serveEcho(r);
    const clients = [0, 1].map(() => new WebSocket(`ws://127.0.0.1:${port}/ws`));
    const closes = clients.map(
      (c) => new Promise<[number, string]>((resolve) => c.on('close', (code: number, reason: Buffer) => resolve([code, reason.toString()]))),
    );
    await Promise.all(clients.map((c) => new Promise((resolve) => c.on('open', resolve))));
    await until(() => log.opened === 2, 5000, 'both open on the server');

    let result: DrainResult | null = null;
    drainConnections(r, 30).addCallback((x) => (result = x));
    expect(await Promise.all(closes)).toEqual([
      [1001, 'server shutting down'],
      [1001, 'server shutting down'],
    ]);
    await until(() => result !== null, 5000, 'the drain');
    expect(result).toEqual({ ports: 1, connections: 2, remaining: 0 });
    expect(log.closes).toEqual([
      [true, 1001, 'server shutting down'],
      [true, 1001, 'server shutting down'],
    ]);
  });
});
