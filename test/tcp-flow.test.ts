/**
 * Flow control and half-close on real sockets, every backend: push and pull
 * producers against a slow reader, the transport as a producer, and
 * loseWriteConnection with and without IHalfCloseableProtocol.
 */
import * as net from 'net';
import { IPv4Address } from '../lib/address';
import { ConnectionDone } from '../lib/errors';
import type { ITCPTransport } from '../lib/interfaces';
import { Factory, Protocol } from '../lib/protocol';
import { createReactor, Reactor, StreamTransport } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { captureLog, keeping, Recorder, signal, tcpOf } from './helpers/tcp';

jest.setTimeout(15000);

const CHUNK = Buffer.alloc(16 * 1024, 0x5a);

/** A push producer writing CHUNKs as fast as it is allowed, up to `limit` bytes. */
class Streamer {
  paused = false;
  stopped = false;
  written = 0;
  pauses = 0;
  resumes = 0;
  maxBuffered = 0;
  readonly pausedOnce = signal();
  constructor(
    private readonly t: StreamTransport,
    private readonly limit: number,
  ) {}
  start(): void {
    this.t.registerProducer(this, true);
    this.pump();
  }
  pump = (): void => {
    while (!this.paused && !this.stopped && this.written < this.limit) {
      this.t.write(CHUNK);
      this.written += CHUNK.length;
      this.maxBuffered = Math.max(this.maxBuffered, this.t.bufferedAmount());
    }
    if (this.written >= this.limit && !this.stopped) {
      this.stopped = true;
      this.t.unregisterProducer();
      this.t.loseConnection();
    }
  };
  pauseProducing(): void {
    this.paused = true;
    this.pauses++;
    this.pausedOnce.resolve();
  }
  resumeProducing(): void {
    this.paused = false;
    this.resumes++;
    setImmediate(this.pump);
  }
  stopProducing(): void {
    this.stopped = true;
  }
}

forEachBackend('TCP flow control', (backend) => {
  let r: Reactor;
  beforeEach(() => {
    r = createReactor({ backend });
  });
  afterEach(() => r.close());

  function listen(f: Factory): number {
    return (r.listenTCP(0, f, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  }

  /** A server Recorder and a raw net client connected to it. */
  async function rawClient(): Promise<{ client: net.Socket; server: Recorder }> {
    const sf = keeping(Recorder);
    const client = net.connect(listen(sf), '127.0.0.1');
    return { client, server: await sf.nextProtocol() };
  }

  it('pauses a streaming producer at the high-water mark while the peer does not read, resumes when it does', async () => {
    const LIMIT = 48 * 1024 * 1024;
    const sf = keeping(Recorder);
    const port = listen(sf);
    const client = net.connect(port, '127.0.0.1');
    client.pause();
    const server = await sf.nextProtocol();
    const t = server.transport as StreamTransport;
    expect(t.highWaterMark).toBe(64 * 1024);
    const s = new Streamer(t, LIMIT);
    s.start();
    await s.pausedOnce.promise;
    // Paused well before the limit, with at most one chunk over the mark buffered.
    expect(s.written).toBeLessThan(LIMIT);
    expect(s.maxBuffered).toBeLessThanOrEqual(t.highWaterMark + CHUNK.length);
    const writtenWhilePaused = s.written;
    const rssPaused = process.memoryUsage().rss;
    // Now read everything.
    let got = 0;
    const closed = signal();
    client.on('data', (d) => (got += d.length));
    client.on('close', () => closed.resolve());
    client.resume();
    await closed.promise;
    expect(got).toBe(LIMIT);
    expect(s.resumes).toBeGreaterThan(0);
    expect(s.written).toBeGreaterThan(writtenWhilePaused);
    expect(s.maxBuffered).toBeLessThanOrEqual(t.highWaterMark + CHUNK.length);
    expect(process.memoryUsage().rss - rssPaused).toBeLessThan(LIMIT);
  });

  it('the high-water mark is configurable per reactor and per transport', async () => {
    const r2 = createReactor({ backend, highWaterMark: 1024 });
    try {
      const sf = keeping(Recorder);
      const port = (r2.listenTCP(0, sf, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
      const client = net.connect(port, '127.0.0.1');
      client.pause();
      const t = (await sf.nextProtocol()).transport as StreamTransport;
      expect(t.highWaterMark).toBe(1024);
      t.highWaterMark = 4 * 1024 * 1024;
      const s = new Streamer(t, 64 * 1024 * 1024);
      s.start();
      await s.pausedOnce.promise;
      expect(s.maxBuffered).toBeGreaterThan(4 * 1024 * 1024);
      expect(s.maxBuffered).toBeLessThanOrEqual(4 * 1024 * 1024 + CHUNK.length);
      client.destroy();
    } finally {
      r2.close();
    }
    expect(() => createReactor({ backend, highWaterMark: -1 })).toThrow(/highWaterMark/);
  });

  it('pulls a non-streaming producer each time the buffer drains', async () => {
    const N = 400;
    class Puller extends Protocol {
      count = 0;
      override connectionMade(): void {
        tcpOf(this).registerProducer(this as unknown as { resumeProducing(): void; stopProducing(): void }, false);
      }
      resumeProducing(): void {
        if (this.count === N) return;
        this.count++;
        this.transport!.write(CHUNK);
        if (this.count === N) {
          tcpOf(this).unregisterProducer();
          this.transport!.loseConnection();
        }
      }
      stopProducing(): void {}
    }
    const port = listen(Factory.forProtocol(Puller));
    const client = net.connect(port, '127.0.0.1');
    let got = 0;
    const closed = signal();
    client.on('data', (d) => (got += d.length));
    client.on('close', () => closed.resolve());
    await closed.promise;
    expect(got).toBe(N * CHUNK.length);
  });

  it('the transport is a producer: pauseProducing holds data back until resumeProducing', async () => {
    const { client, server } = await rawClient();
    const t = server.transport as ITCPTransport;
    t.pauseProducing();
    client.write('held back');
    await new Promise((res) => setTimeout(res, 50)); // proving an absence: no event to wait for
    expect(server.bytes.length).toBe(0);
    t.resumeProducing();
    await server.waitForBytes(9);
    expect(server.bytes.toString()).toBe('held back');
    t.stopProducing();
    expect((await server.lost).check(ConnectionDone)).toBe(ConnectionDone);
    client.destroy();
  });

  it('data and EOF sent while paused arrive in order after resumeProducing', async () => {
    const { client, server } = await rawClient();
    const t = server.transport as ITCPTransport;
    t.pauseProducing();
    client.end('everything, then EOF');
    await new Promise((res) => setTimeout(res, 50)); // proving an absence: no event to wait for
    expect(server.bytes.length).toBe(0);
    expect(server.lostCount).toBe(0);
    t.resumeProducing();
    expect((await server.lost).check(ConnectionDone)).toBe(ConnectionDone);
    expect(server.bytes.toString()).toBe('everything, then EOF');
    client.destroy();
  });

  it('half-close: readConnectionLost keeps the connection writable; writeConnectionLost follows loseWriteConnection', async () => {
    const events: string[] = [];
    class HalfServer extends Recorder {
      readConnectionLost(): void {
        events.push(`server readConnectionLost after ${this.bytes.toString()}`);
        this.transport!.write('bye');
        this.transport!.loseConnection();
      }
      writeConnectionLost(): void {}
    }
    class HalfClient extends Recorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport!.write('request');
        (this.transport as ITCPTransport).loseWriteConnection();
        this.transport!.write('ignored after loseWriteConnection');
      }
      writeConnectionLost(): void {
        events.push('client writeConnectionLost');
      }
      readConnectionLost(): void {
        events.push(`client readConnectionLost after ${this.bytes.toString()}`);
      }
    }
    const port = listen(Factory.forProtocol(HalfServer));
    const c = new HalfClient();
    const cf = Factory.forProtocol(Recorder);
    cf.buildProtocol = () => c;
    r.connectTCP('127.0.0.1', port, cf);
    const why = await c.lost;
    expect(why.check(ConnectionDone)).toBe(ConnectionDone);
    expect(events).toEqual(['client writeConnectionLost', 'server readConnectionLost after request', 'client readConnectionLost after bye']);
  });

  it('without readConnectionLost, EOF closes the connection with ConnectionDone', async () => {
    const sf = keeping(Recorder);
    const port = listen(sf);
    const client = net.connect(port, '127.0.0.1', () => client.end('last words'));
    const server = await sf.nextProtocol();
    expect((await server.lost).check(ConnectionDone)).toBe(ConnectionDone);
    expect(server.bytes.toString()).toBe('last words');
    client.destroy();
  });

  it('a peer reset while we write reports a lost connection, never a crash or SIGPIPE', async () => {
    const { client, server } = await rawClient();
    client.resetAndDestroy();
    const lost = server.lost;
    for (let i = 0; i < 200 && server.connected; i++) {
      server.transport!.write(CHUNK);
      await new Promise((res) => setImmediate(res));
    }
    const why = await lost;
    expect(why.value).toBeInstanceOf(Error);
    expect(server.lostCount).toBe(1);
  });

  it('loseConnection waits for a registered producer to unregister; a second producer is refused', async () => {
    const sf = keeping(Recorder);
    const port = listen(sf);
    const client = net.connect(port, '127.0.0.1');
    let got = '';
    client.on('data', (d) => (got += d));
    const server = await sf.nextProtocol();
    const t = server.transport as StreamTransport;
    const producer = { pauseProducing() {}, resumeProducing() {}, stopProducing() {} };
    t.registerProducer(producer, true);
    expect(() => t.registerProducer(producer, true)).toThrow(/already registered/);
    t.loseConnection();
    expect(t.connected).toBe(true);
    t.unregisterProducer();
    expect((await server.lost).check(ConnectionDone)).toBe(ConnectionDone);
    // Registering on a closed transport stops the producer at once.
    let stopped = 0;
    t.registerProducer({ resumeProducing() {}, stopProducing: () => void stopped++ }, false);
    expect(stopped).toBe(1);
    client.destroy();
  });

  it('loseConnection with a producer registered still takes writes until it unregisters, then flushes them all and closes', async () => {
    const sf = keeping(Recorder);
    const client = net.connect(listen(sf), '127.0.0.1');
    client.pause(); // the kernel buffers fill: most of `big` waits in the transport's backlog
    const parts: Buffer[] = [];
    client.on('data', (d: Buffer) => parts.push(d));
    const ended = new Promise<void>((res) => client.once('end', res));
    const server = await sf.nextProtocol();
    const t = server.transport as StreamTransport;
    t.registerProducer({ pauseProducing() {}, resumeProducing() {}, stopProducing() {} }, true);
    t.write('before;');
    t.loseConnection();
    expect(t.disconnecting).toBe(true);
    const big = Buffer.alloc(16 * 1024 * 1024 + 7, 0x61);
    t.write('after;');
    t.writeSequence(['seq;', big]);
    t.write(';last');
    expect(t.bufferedAmount()).toBeGreaterThan(1024 * 1024);
    t.unregisterProducer();
    t.write('dropped'); // no producer to wait for now: closing refuses writes again
    client.resume();
    await ended;
    expect(Buffer.concat(parts).equals(Buffer.concat([Buffer.from('before;after;seq;'), big, Buffer.from(';last')]))).toBe(true);
    expect((await server.lost).check(ConnectionDone)).toBe(ConnectionDone);
    client.destroy();
  });

  it('connectionLost stops a registered producer; a throwing connectionLost is logged and nothing else breaks', async () => {
    const cap = captureLog();
    try {
      let stopped = 0;
      class Grumpy extends Recorder {
        override connectionMade(): void {
          super.connectionMade();
          tcpOf(this).registerProducer({ pauseProducing() {}, resumeProducing() {}, stopProducing: () => void stopped++ }, true);
        }
        override connectionLost(reason: Parameters<Recorder['connectionLost']>[0]): void {
          super.connectionLost(reason);
          throw new Error('grumpy goodbye');
        }
      }
      const sf = keeping(Grumpy);
      const port = listen(sf);
      const client = net.connect(port, '127.0.0.1');
      const server = await sf.nextProtocol();
      client.destroy();
      await server.lost;
      await new Promise((res) => setImmediate(res));
      expect(stopped).toBe(1);
      const grumpy = (): number => cap.events.filter((e) => (e.failure?.value as Error)?.message === 'grumpy goodbye').length;
      expect(grumpy()).toBe(1);
      // The port still serves; that connection's goodbye is captured too, not printed.
      const again = net.connect(port, '127.0.0.1');
      const second = await sf.nextProtocol();
      again.destroy();
      await second.lost;
      await new Promise((res) => setImmediate(res));
      expect(grumpy()).toBe(2);
    } finally {
      cap.stop();
    }
  });
});
