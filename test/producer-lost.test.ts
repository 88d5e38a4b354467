/**
 * A producer that writes until it is told (Twisted's idiom: registerProducer,
 * then `while (!paused) write(chunk)` in resumeProducing) ends its loop when
 * the connection is lost under it, on every backend, over TCP and TLS: the
 * write that fails, or the first write after any close, tells it
 * stopProducing at once and once, and connectionLost still comes after it,
 * at the end of the step. Twisted's writes are buffered, so its full buffer
 * pauses such a loop; here a failed write closes the transport and later
 * writes are dropped, so nothing but the transport can end the loop.
 */
import * as net from 'net';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import { ConnectionAborted, ConnectionLost } from '../lib/errors';
import type { Failure } from '../lib/failure';
import type { IPushProducer } from '../lib/interfaces';
import type { Reactor, StreamTransport } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { withTimeout } from './helpers/checks';
import { KeepingFactory, keeping, Recorder } from './helpers/tcp';

jest.setTimeout(20000);

const CHUNK = Buffer.alloc(64 * 1024, 0x62);
/** Where a loop nothing tells gives up, so that a failing test ends (dropped writes are cheap: well under a second). */
const CAP = 200_000;

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/**
 * Registers itself as a streaming producer and writes a first chunk at
 * connectionMade; resumeProducing writes CHUNK until paused or stopped (or
 * CAP writes). Records what it was told and when connectionLost came.
 */
class Spewer extends Recorder implements IPushProducer {
  paused = false;
  stopped = false;
  writes = 0;
  readonly told: string[] = [];
  /** What it had been told when its last loop ended. */
  toldInLoop: string[] = [];

  override connectionMade(): void {
    super.connectionMade();
    (this.transport as StreamTransport).registerProducer(this, true);
    this.transport!.write(CHUNK);
  }

  pauseProducing(): void {
    this.paused = true;
    this.told.push('pause');
  }

  resumeProducing(): void {
    this.paused = false;
    while (!this.paused && !this.stopped && this.writes < CAP) {
      this.transport!.write(CHUNK);
      this.writes++;
    }
    this.toldInLoop = [...this.told];
  }

  stopProducing(): void {
    this.stopped = true;
    this.told.push('stop');
  }

  override connectionLost(reason: Failure): void {
    this.told.push('connectionLost');
    super.connectionLost(reason);
  }
}

/** Resolves once `s` has read `n` bytes. */
function readBytes(s: net.Socket, n: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    s.on('data', (d: Buffer) => {
      got += d.length;
      if (got >= n) resolve();
    });
  });
}

/** A plain client socket, its errors (the reset's) ignored. */
function tcpClient(port: number): net.Socket {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  return s;
}

forEachBackend('a producer writing until told, when its connection is lost', (backend) => {
  let r: Reactor;
  reactorPerTest(
    backend,
    (x) => (r = x),
    () => r,
  );

  /**
   * The client reads the first chunk (so nothing of it waits in the server's
   * buffer), resets, and the server's loop starts. In one process the loop
   * cannot run while the client acts, so it starts right after the reset,
   * before the reactor has read it: the state a loop running when the reset
   * arrives meets.
   */
  async function resetThenSpew(sf: KeepingFactory<Spewer>, raw: net.Socket, reader: net.Socket): Promise<Spewer> {
    const server = await withTimeout(sf.nextProtocol(), 5000, 'the connection');
    await withTimeout(readBytes(reader, CHUNK.length), 5000, 'the first chunk');
    raw.resetAndDestroy();
    server.resumeProducing();
    return server;
  }

  /** The loop ended in the write that failed, told stop once and nothing else, before connectionLost; that follows with ConnectionLost. */
  async function expectStoppedInTheFailedWrite(server: Spewer): Promise<void> {
    expect(server.writes).toBe(1);
    expect(server.toldInLoop).toEqual(['stop']);
    expect((await withTimeout(server.lost, 5000, 'connectionLost')).check(ConnectionLost)).toBe(ConnectionLost);
    expect(server.told).toEqual(['stop', 'connectionLost']);
    expect(server.lostCount).toBe(1);
  }

  it('TCP: a peer reset stops the producer in the write that failed', async () => {
    const sf = keeping(Spewer);
    const port = (r.listenTCP(0, sf, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const client = tcpClient(port);
    try {
      await expectStoppedInTheFailedWrite(await resetThenSpew(sf, client, client));
    } finally {
      client.destroy();
    }
  });

  it('TLS: a peer reset stops the producer in the write that failed', async () => {
    const sf = keeping(Spewer);
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (r.listenSSL(0, sf, opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const raw = tcpClient(port);
    const client = tls.connect({ socket: raw, ca: certs.ca.cert, servername: 'localhost' });
    client.on('error', () => undefined);
    try {
      await expectStoppedInTheFailedWrite(await resetThenSpew(sf, raw, client));
    } finally {
      client.destroy();
      raw.destroy();
    }
  });

  it('a producer still writing after the connection closed is stopped at its first write', async () => {
    const sf = keeping(Spewer);
    const port = (r.listenTCP(0, sf, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const client = tcpClient(port);
    try {
      const server = await withTimeout(sf.nextProtocol(), 5000, 'the connection');
      await withTimeout(server.made, 5000, 'connectionMade');
      server.transport!.abortConnection();
      server.resumeProducing();
      expect(server.writes).toBe(1);
      expect(server.toldInLoop).toEqual(['stop']);
      expect((await withTimeout(server.lost, 5000, 'connectionLost')).check(ConnectionAborted)).toBe(ConnectionAborted);
      expect(server.told).toEqual(['stop', 'connectionLost']);
    } finally {
      client.destroy();
    }
  });
});
