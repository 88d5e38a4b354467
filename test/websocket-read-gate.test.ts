/**
 * The WebSocket read gate (reading stops while the write buffer is past the
 * high-water mark) next to what an application does itself, on every
 * backend, over TCP and TLS: it registers its own producer while gated (it
 * never registered one: no "already registered"), it paused reading itself
 * (the gate lifting must not resume it), it writes from onMessage while
 * gated, the connection closes while gated.
 */
import type { Reactor } from '../lib/reactor';
import type { StreamTransport } from '../lib/reactor';
import type { IPushProducer } from '../lib/interfaces';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { captureLog, until } from './helpers/tcp';
import { EchoServer, serveEcho } from './helpers/websocket';
import { clientFrame, RawClient } from './helpers/ws-raw';

jest.setTimeout(60000);

/** Far more than the kernel's buffers take while the client does not read (PIECES messages of PIECE bytes): the server's stays past the mark. */
const PIECE = 1024 * 1024;
const PIECES = 16;

/** On 'fill' sends PIECES × PIECE bytes (the client is not reading: the gate closes), pausing reading first on 'pause-fill'; echoes the rest. */
class Filler extends EchoServer {
  override onMessage(payload: Buffer, isBinary: boolean): void {
    const what = payload.toString();
    if (what === 'pause-fill') (this.transport as StreamTransport).pauseProducing();
    if (what === 'fill' || what === 'pause-fill') {
      this.factory.log.messages.push([what, false]);
      for (let i = 0; i < PIECES; i++) this.sendMessage(Buffer.alloc(PIECE, 0x62), true);
      this.sendMessage('written while gated'); // a write from onMessage once the gate is closed
      return;
    }
    super.onMessage(payload, isBinary);
  }
}

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

forEachBackend('websocket: the read gate and the application', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  const clients: RawClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });

  /** A Filler server (over TLS with `secure`), one client of it that is not reading, and the server side's transport once 'fill' (or 'pause-fill') closed the gate. */
  async function gated(secure: boolean, fill: string): Promise<{ c: RawClient; t: StreamTransport; log: ReturnType<typeof serveEcho>['log']; port: number; raw: () => RawClient }> {
    const tlsOptions = secure ? new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert }) : undefined;
    const { port, log, factory } = serveEcho(r, {}, undefined, tlsOptions);
    factory.protocol = Filler as never;
    const servers: Filler[] = [];
    const build = factory.buildProtocol.bind(factory);
    factory.buildProtocol = (addr) => {
      const p = build(addr) as Filler;
      servers.push(p);
      return p;
    };
    const raw = (): RawClient => {
      const c = new RawClient(port, null, undefined, secure ? { ca: certs.ca.cert, servername: 'localhost' } : undefined);
      clients.push(c);
      return c;
    };
    const c = raw();
    await until(() => log.opened === 1, 5000, 'the handshake');
    c.socket.pause();
    c.send(clientFrame(1, fill));
    await until(() => log.messages.length === 1, 5000, `the ${fill} message`);
    const t = servers[0].transport as StreamTransport;
    expect(t.bufferedAmount()).toBeGreaterThan(r.highWaterMark);
    return { c, t, log, port, raw };
  }

  /** An echo on a second connection: the server's reactor polled (and read what was readable) meanwhile. */
  async function roundTrip(raw: () => RawClient): Promise<void> {
    const other = raw();
    other.send(clientFrame(1, 'other'));
    await until(() => other.frames.length === 1, 5000, "the other connection's echo");
  }

  describe.each([
    ['TCP', false],
    ['TLS', true],
  ])('over %s', (_name, secure) => {
    it('an application registers its own producer while gated: accepted, paused at once, resumed at the drain, reading still held until then', async () => {
      const { c, t, log } = await gated(secure, 'fill');
      c.send(clientFrame(1, 'after')); // not read while the buffer is full
      const calls: string[] = [];
      let readAtResume = -1;
      const producer: IPushProducer = {
        pauseProducing: () => calls.push('pause'),
        resumeProducing: () => {
          calls.push('resume');
          readAtResume = log.messages.length;
          t.unregisterProducer();
        },
        stopProducing: () => calls.push('stop'),
      };
      expect(() => t.registerProducer(producer, true)).not.toThrow();
      expect(calls).toEqual(['pause']);
      c.socket.resume();
      await until(() => c.frames.length === PIECES + 2, 20000, 'the big messages, the one written while gated, and the echo');
      expect(calls).toEqual(['pause', 'resume']);
      expect(readAtResume).toBe(1); // 'after' was not read before the buffer drained
      expect(c.frames.slice(0, PIECES).every((f) => f.payload.length === PIECE)).toBe(true);
      expect(c.frames[PIECES].payload.toString()).toBe('written while gated');
      expect(c.frames[PIECES + 1].payload.toString()).toBe('after');
      expect(c.ended).toBe(false);
    });

    it('an application that paused reading itself stays paused when the gate lifts; its resumeProducing reads again', async () => {
      const { c, t, log, raw } = await gated(secure, 'pause-fill');
      c.send(clientFrame(1, 'after'));
      c.socket.resume();
      await until(() => c.frames.length >= PIECES + 1, 20000, 'the big messages and the one written while gated');
      await until(() => t.bufferedAmount() === 0, 5000, 'the drain');
      // Two polls of the server's reactor since: 'after' is readable, and must stay unread.
      await roundTrip(raw);
      await roundTrip(raw);
      expect(log.messages.map((m) => m[0])).toEqual(['pause-fill', 'other', 'other']);
      t.resumeProducing();
      await until(() => c.frames.length === PIECES + 2, 5000, 'the echo once resumed');
      expect(c.frames[PIECES + 1].payload.toString()).toBe('after');
    });

    it('the connection closes while gated: by the server (the buffer is flushed first) or by the peer, with no error', async () => {
      const logged = captureLog();
      try {
        const first = await gated(secure, 'fill');
        first.t.loseConnection();
        first.c.socket.resume();
        await until(() => first.c.ended, 20000, 'the close after the flush');
        expect(first.c.frames.length).toBe(PIECES + 1);
        const second = await gated(secure, 'fill');
        second.c.destroy();
        await until(() => second.log.closes.length === 1, 5000, 'the server seeing the peer go');
        expect(second.t.connected).toBe(false);
        expect(logged.events.filter((e) => e.level === 'error' || e.level === 'critical')).toEqual([]);
      } finally {
        logged.stop();
      }
    });
  });
});
