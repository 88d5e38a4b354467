/**
 * What an idle WebSocket connection keeps, on every backend: no frame
 * parser between frames (one is lent per read, and kept only while a frame
 * is cut by a read boundary), no Headers built for its upgrade request; and
 * that what is now made lazily still works: frames cut anywhere, bad frames
 * after an idle spell, the peer's address.
 */
import { IPv4Address, IPv6Address, UNIXAddress } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { HTTPChannel, Request } from '../lib/web';
import { ConnectionRequest } from '../lib/websocket';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { EchoServer, echoFactory, serveEcho } from './helpers/websocket';
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

/** An echo server that keeps its protocols (not their requests) and each peer address read in onClose. */
class Plain extends EchoServer {
  static all: Plain[] = [];
  static closedPeers: IPv4Address[] = [];
  override onOpen(): void {
    super.onOpen();
    Plain.all.push(this);
  }
  override onClose(wasClean: boolean, code: number, reason: string): void {
    super.onClose(wasClean, code, reason);
    Plain.closedPeers.push(this.transport.getPeer() as IPv4Address);
  }
}

/**
 * The objects `o`'s own fields reach that an idle connection should not
 * keep: the upgrade's HTTP request or channel, an address object, any
 * object of the rarely used state (each field named).
 */
function keptOf(o: object): string[] {
  const kept: string[] = [];
  for (const [name, v] of Object.entries(o)) {
    if (v instanceof Request || v instanceof HTTPChannel || v instanceof IPv4Address || v instanceof IPv6Address || v instanceof UNIXAddress) kept.push(name);
    else if (name === 'extra' && v !== null) kept.push(name);
  }
  return kept;
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
    Plain.all = [];
    Plain.closedPeers = [];
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

  it.each([
    ['on a Site', (): number => {
      const { port, factory } = serveEcho(r);
      factory.protocol = Plain as never;
      return port;
    }],
    ['straight on a port', (): number => {
      const factory = echoFactory(r);
      factory.protocol = Plain as never;
      return (r.listenTCP(0, factory, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    }],
  ])('once open (%s), keeps no request, channel, address or rarely used state; the peer is still right in onClose', async (_where, listen) => {
    const c = new RawClient(listen());
    clients.push(c);
    await until(() => Plain.all.length === 1);
    c.send(clientFrame(1, 'hello'));
    await until(() => c.frames.length === 1);
    const p = Plain.all[0];
    expect(keptOf(p)).toEqual([]);
    expect(keptOf(p.transport)).toEqual([]);
    expect(p.websocketProtocolInUse).toBeNull();
    await until(() => c.socket.localPort !== undefined);
    const port = c.socket.localPort;
    await new Promise((done) => (c.socket.once('close', done), c.destroy()));
    await until(() => Plain.closedPeers.length === 1);
    expect([Plain.closedPeers[0].host, Plain.closedPeers[0].port, Plain.closedPeers[0].type]).toEqual(['127.0.0.1', port, 'TCP']);
  });
});
