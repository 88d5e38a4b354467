/**
 * What an idle WebSocket connection keeps, on every backend: no frame
 * parser between frames (one is lent per read, and kept only while a frame
 * is cut by a read boundary), no Headers built for its upgrade request; and
 * that what is now made lazily still works: frames cut anywhere, bad frames
 * after an idle spell, the peer's address.
 */
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { ConnectionRequest } from '../lib/websocket';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { EchoServer, serveEcho } from './helpers/websocket';
import { clientFrame, RawClient } from './helpers/ws-raw';

jest.setTimeout(20000);

/** An echo server that keeps its protocols and the requests they were opened with. */
class Kept extends EchoServer {
  static all: Kept[] = [];
  request: ConnectionRequest | null = null;
  override onConnect(request: ConnectionRequest): string | null {
    this.request = request;
    return super.onConnect(request);
  }
  override onOpen(): void {
    super.onOpen();
    Kept.all.push(this);
  }
}

function parserOf(p: Kept): unknown {
  return (p as unknown as { frameParser: unknown }).frameParser;
}

forEachBackend('websocket: idle connections', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  const clients: RawClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
    Kept.all = [];
  });
  function open(): { c: RawClient; log: ReturnType<typeof serveEcho>['log'] } {
    const { port, log, factory } = serveEcho(r);
    factory.protocol = Kept as never;
    const c = new RawClient(port);
    clients.push(c);
    return { c, log };
  }

  it('keeps no frame parser between frames, and never built the Headers of its upgrade request', async () => {
    const { c } = open();
    await until(() => Kept.all.length === 1);
    const p = Kept.all[0];
    expect(parserOf(p)).toBeNull();
    c.send(clientFrame(1, 'hello'));
    await until(() => c.frames.length === 1);
    expect(c.frames[0].payload.toString()).toBe('hello');
    expect(parserOf(p)).toBeNull();
    const head = (p.request!.request as unknown as { head: { built: unknown } }).head;
    expect(head.built).toBeNull();
    expect(p.request!.origin).toBeNull();
    expect(p.request!.host).toBe('127.0.0.1');
  });

  it('keeps a parser while a frame is cut across reads, and lets it go once the frame is whole', async () => {
    const { c } = open();
    await until(() => Kept.all.length === 1);
    const p = Kept.all[0];
    const frame = clientFrame(2, Buffer.alloc(300, 7));
    c.send(frame.subarray(0, 1)); // half a header
    await until(() => parserOf(p) !== null, 5000, 'the cut header to arrive');
    c.send(frame.subarray(1, 100)); // the header and part of the payload
    await until(() => (parserOf(p) as { idle: boolean } | null)?.idle === false && (parserOf(p) as { partial: unknown }).partial !== null, 5000, 'part of the payload');
    c.send(Buffer.concat([frame.subarray(100), clientFrame(1, 'next')]));
    await until(() => c.frames.length === 2);
    expect(c.frames[0].payload).toEqual(Buffer.alloc(300, 7));
    expect(c.frames[1].payload.toString()).toBe('next');
    expect(parserOf(p)).toBeNull();
  });

  it.each([
    ['whole', (f: Buffer) => [f]],
    ['with its header cut across reads', (f: Buffer) => [f.subarray(0, 1), f.subarray(1)]],
  ])('a bad frame after an idle spell (%s) still closes with 1002', async (_what, pieces) => {
    const { c, log } = open();
    await until(() => Kept.all.length === 1);
    const p = Kept.all[0];
    c.send(clientFrame(1, 'first'));
    await until(() => c.frames.length === 1);
    const parts = pieces(clientFrame(1, 'x', { mask: false }));
    for (let i = 0; i < parts.length; i++) {
      c.send(parts[i]);
      if (i + 1 < parts.length) await until(() => parserOf(p) !== null, 5000, 'the cut header to arrive');
    }
    await until(() => c.ended, 5000, 'the server to close');
    expect(c.closeCode()).toBe(1002);
    await until(() => log.closes.length === 1);
    expect(log.closes[0][0]).toBe(false);
  });

  it('each connection reports its own peer address', async () => {
    const { c: a } = open();
    await until(() => Kept.all.length === 1);
    const b = new RawClient(a.socket.remotePort!);
    clients.push(b);
    await until(() => Kept.all.length === 2 && a.socket.localPort !== undefined && b.socket.localPort !== undefined);
    const peers = Kept.all.map((k) => k.transport.getPeer() as IPv4Address).sort((x, y) => x.port - y.port);
    expect(peers.map((x) => x.host)).toEqual(['127.0.0.1', '127.0.0.1']);
    expect(peers.map((x) => x.port)).toEqual([a.socket.localPort, b.socket.localPort].sort((x, y) => x! - y!));
    expect(peers.map((x) => x.type)).toEqual(['TCP', 'TCP']);
    // (closed here, not left to the fd check's disconnect: two clients' FINs may take longer than one step)
    await Promise.all([a, b].map((x) => new Promise((done) => (x.socket.once('close', done), x.destroy()))));
  });
});
