/**
 * HTTPChannel's IGracefulShutdown under drainConnections: an idle
 * keep-alive connection is closed at once; a request in progress is
 * answered with `Connection: close`, then its connection closes.
 */
import * as net from 'net';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { drainConnections, DrainResult } from '../lib/runner/drain';
import { Resource, Site } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { responses } from './web-raw';
import { Slow } from './helpers/slow-resource';

jest.setTimeout(15000);

class Hello extends Resource {
  override isLeaf = true;
  render_GET(): string {
    return 'hello';
  }
}

/** A keep-alive client connection: what it received, and when the server closed it. */
function client(port: number): { sock: net.Socket; data: () => string; closed: Promise<void> } {
  const sock = net.connect(port, '127.0.0.1');
  let data = '';
  sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
  sock.on('error', () => {});
  const closed = new Promise<void>((resolve) => sock.on('close', () => resolve()));
  return { sock, data: () => data, closed };
}

forEachBackend('web: graceful shutdown', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  it('closes idle keep-alive connections and finishes the request in progress with Connection: close', async () => {
    const root = new Resource();
    root.putChild('hello', new Hello());
    const slow = new Slow();
    root.putChild('slow', slow);
    const port = (r.listenTCP(0, new Site(root, { reactor: r }), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const idle = client(port);
    idle.sock.write('GET /hello HTTP/1.1\r\nHost: h\r\n\r\n');
    await until(() => idle.data().endsWith('hello'), 5000, 'the first response');
    const busy = client(port);
    busy.sock.write('GET /slow HTTP/1.1\r\nHost: h\r\n\r\n');
    await until(() => slow.waiting.length === 1, 5000, 'the slow request');

    let result: DrainResult | null = null;
    drainConnections(r, 30).addCallback((x) => (result = x));
    await idle.closed;
    expect(responses(idle.data()).map((x) => [x.status, x.headers.connection])).toEqual([[200, undefined]]);
    expect(result).toBeNull(); // the slow request is still in hand

    slow.waiting[0].write(Buffer.from('late'));
    slow.waiting[0].finish();
    await busy.closed;
    expect(responses(busy.data()).map((x) => [x.status, x.headers.connection, x.body])).toEqual([[200, 'close', 'late']]);
    await until(() => result !== null, 5000, 'the drain');
    expect(result).toEqual({ ports: 1, connections: 2, remaining: 0 });
  });
});
