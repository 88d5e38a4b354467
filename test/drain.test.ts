/**
 * drainConnections: ports stop accepting, IGracefulShutdown protocols are
 * told, and the Deferred fires when the connections are gone or at the deadline.
 */
import * as net from 'net';
import { Factory, Protocol } from '../lib/protocol';
import type { Reactor } from '../lib/reactor';
import { drainConnections, DrainResult } from '../lib/runner/drain';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';

jest.setTimeout(15000);

/** Closes as soon as it is told the server is shutting down. */
class Polite extends Protocol {
  told = 0;
  gracefulShutdown(): void {
    this.told++;
    this.transport!.loseConnection();
  }
}

/** Has no hook: stays until the peer closes or the drain's deadline. */
class Deaf extends Protocol {}

function connected(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

function closed(s: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    else s.on('close', () => resolve());
  });
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve('connected');
    });
    s.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
  });
}

forEachBackend('drainConnections', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  it('stops accepting, tells the protocols, and fires once they closed', async () => {
    const protocols: Polite[] = [];
    const port = r.listenTCP(0, Factory.forProtocol(Polite), { interface: '127.0.0.1' });
    const orig = port.factory.buildProtocol.bind(port.factory);
    port.factory.buildProtocol = (a) => {
      const p = orig(a) as Polite;
      protocols.push(p);
      return p;
    };
    const n = port.getHost().port;
    const clients = await Promise.all([connected(n), connected(n)]);
    await until(() => port.stats().connections === 2, 5000, 'both accepted');
    const result = await new Promise<DrainResult>((resolve) => drainConnections(r, 30).addCallback(resolve));
    expect(result).toEqual({ ports: 1, connections: 2, remaining: 0 });
    expect(protocols.map((p) => p.told)).toEqual([1, 1]);
    await Promise.all(clients.map(closed));
    expect(await refused(n)).toBe('ECONNREFUSED');
    expect(r.getDelayedCalls()).toHaveLength(0); // the deadline was cancelled
  });

  it('fires at the deadline with the connections still open counted, and drops them', async () => {
    const port = r.listenTCP(0, Factory.forProtocol(Deaf), { interface: '127.0.0.1' });
    const client = await connected(port.getHost().port);
    client.on('error', () => undefined); // an abort may arrive as a reset
    // a connection the reactor made itself: neither waited for nor dropped
    const accepted: net.Socket[] = [];
    const outsider = net.createServer((s) => {
      accepted.push(s);
      s.on('error', () => undefined);
    });
    try {
      const gone = closed(client);
      await until(() => port.stats().connections === 1, 5000, 'accepted');
      await new Promise<void>((resolve) => outsider.listen(0, '127.0.0.1', resolve));
      const mine = new Deaf();
      const f = new Factory();
      f.buildProtocol = () => mine;
      r.connectTCP('127.0.0.1', (outsider.address() as net.AddressInfo).port, f);
      await until(() => mine.connected, 5000, 'outgoing connection made');
      const result = await new Promise<DrainResult>((resolve) => drainConnections(r, 0.05).addCallback(resolve));
      expect(result).toEqual({ ports: 1, connections: 1, remaining: 1 });
      await gone;
      await until(() => port.stats().connections === 0, 5000, 'dropped');
      expect(mine.connected).toBe(true);
    } finally {
      client.destroy();
      for (const s of accepted) s.destroy();
      outsider.close();
    }
  });

  it('fires at once with nothing to drain, and refuses a bad timeout', async () => {
    const result = await new Promise<DrainResult>((resolve) => drainConnections(r, 30).addCallback(resolve));
    expect(result).toEqual({ ports: 0, connections: 0, remaining: 0 });
    expect(() => drainConnections(r, -1)).toThrow(TypeError);
    expect(() => drainConnections(r, NaN)).toThrow(TypeError);
  });
});
