/**
 * A WebSocket peer that sends and never reads, on every backend: pings
 * whose pongs it leaves unread, or messages whose echoes it leaves unread.
 * The server stops reading once its write buffer passes the high-water
 * mark, so what it holds stays bounded (before, it read on and buffered
 * every answer: 400 MB of pings took its RSS past 460 MB); when the peer
 * reads again every answer arrives, and other connections are served
 * meanwhile.
 */
import type { Reactor } from '../lib/reactor';
import type { StreamTransport } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { until } from './helpers/tcp';
import { EchoServer, serveEcho } from './helpers/websocket';
import { clientFrame, RawClient } from './helpers/ws-raw';

jest.setTimeout(30000);

const MiB = 1024 * 1024;

/** A server that keeps reading would take all of this; one that stops at the high-water mark, the kernel's buffers' worth. */
const LIMIT = 64 * MiB;

/** Writes `frame` until the socket stops draining (the server stopped reading) or LIMIT is sent; how many frames went. */
async function sendUntilStalled(c: RawClient, frame: Buffer): Promise<number> {
  const s = c.socket;
  const batch = Buffer.concat(Array.from({ length: Math.max(1, Math.floor(16384 / frame.length)) }, () => frame));
  const perBatch = batch.length / frame.length;
  let sent = 0;
  while (sent * frame.length < LIMIT && !c.ended) {
    sent += perBatch;
    if (s.write(batch)) continue;
    // No drain for two seconds: the server's kernel buffer is full and it is not reading (one that reads drains it in far less, even on a loaded machine).
    const drained = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => resolve(false), 2000);
      s.once('drain', () => (clearTimeout(t), resolve(true)));
    });
    if (!drained) break;
  }
  return sent;
}

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

forEachBackend('websocket: a peer that never reads', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  const clients: RawClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  function raw(port: number, secure = false): RawClient {
    const c = new RawClient(port, null, undefined, secure ? { ca: certs.ca.cert, servername: 'localhost' } : undefined);
    clients.push(c);
    return c;
  }

  it.each([
    ['pings (the pongs are ours)', clientFrame(9, Buffer.alloc(125, 0x70)), 10, 125, false],
    ['binary messages (echoed by the application)', clientFrame(2, Buffer.alloc(1024, 0x65)), 2, 1024, false],
    ['pings over TLS', clientFrame(9, Buffer.alloc(125, 0x70)), 10, 125, true],
  ])('%s: reading stops at the high-water mark, memory stays bounded, every answer comes once it reads', async (_what, frame, answerOpcode, size, secure) => {
    const tlsOptions = secure ? new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert }) : undefined;
    const { port, log, factory } = serveEcho(r, {}, undefined, tlsOptions);
    const servers: EchoServer[] = [];
    const build = factory.buildProtocol.bind(factory);
    factory.buildProtocol = (addr) => {
      const p = build(addr) as EchoServer;
      servers.push(p);
      return p;
    };
    const c = raw(port, secure);
    await until(() => log.opened === 1, 5000, 'the handshake');
    c.socket.pause(); // never reads
    const sent = await sendUntilStalled(c, frame);
    expect(sent * frame.length).toBeLessThan(LIMIT);
    const t = servers[0].transport as StreamTransport;
    // Past the mark by at most what one read's frames answered.
    expect(t.bufferedAmount()).toBeLessThan(r.highWaterMark + 1 * MiB);

    // Another connection is served meanwhile.
    const other = raw(port, secure);
    other.send(clientFrame(1, 'other'));
    await until(() => other.frames.length === 1, 5000, 'the other connection\'s echo');
    expect(other.frames[0].payload.toString()).toBe('other');

    // It reads again: every frame sent is answered, and the connection still echoes.
    c.socket.resume();
    c.send(clientFrame(1, 'after'));
    await until(() => c.frames.length === sent + 1, 20000, `${sent} answers and the echo`);
    expect(c.frames.slice(0, sent).every((f) => f.opcode === answerOpcode && f.payload.length === size)).toBe(true);
    expect(c.frames[sent].payload.toString()).toBe('after');
    expect(c.ended).toBe(false);
  });
});
