/**
 * One very large write, every backend: the call copies at most a chunk of
 * it (the rest waits by reference, lib/transport/write-backlog.ts), so memory
 * does not grow by the size of the write; every byte still arrives, in
 * order with the writes after it, before loseConnection or
 * loseWriteConnection take effect.
 */
import { createHash } from 'crypto';
import * as net from 'net';
import { IPv4Address } from '../lib/address';
import { Factory } from '../lib/protocol';
import { createReactor, Reactor, StreamTransport } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { keeping, Recorder, signal } from './helpers/tcp';

jest.setTimeout(60000);

const MiB = 1024 * 1024;
const BIG = 128 * MiB;

/** `size` bytes whose every 4 KiB block holds its own number: reordering or loss shows in the hash. */
function patterned(size: number): Buffer {
  const b = Buffer.allocUnsafe(size);
  for (let off = 0, n = 0; off < size; off += 4096, n++) b.fill(n & 0xff, off, Math.min(size, off + 4096));
  return b;
}

function sha1(...parts: Uint8Array[]): string {
  const h = createHash('sha1');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

/** Reads everything a paused client gets once resumed: its hash, length and whether EOF came. */
function drain(client: net.Socket): Promise<{ hash: string; length: number }> {
  const h = createHash('sha1');
  let length = 0;
  const done = signal<{ hash: string; length: number }>();
  client.on('data', (d: Buffer) => {
    h.update(d);
    length += d.length;
  });
  client.on('end', () => done.resolve({ hash: h.digest('hex'), length }));
  client.resume();
  return done.promise;
}

forEachBackend('A very large write', (backend) => {
  let r: Reactor;
  beforeEach(() => {
    r = createReactor({ backend });
  });
  afterEach(() => r.close());

  /** A server transport and a paused raw client (it does not read until told). */
  async function pausedPair(): Promise<{ client: net.Socket; t: StreamTransport }> {
    const sf = keeping(Recorder);
    const port = (r.listenTCP(0, sf as Factory, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const client = net.connect(port, '127.0.0.1');
    client.pause();
    const server = await sf.nextProtocol();
    return { client, t: server.transport as StreamTransport };
  }

  it('copies at most a chunk per call: memory does not grow by the write; all of it arrives, then the close', async () => {
    const big = patterned(BIG);
    const { client, t } = await pausedPair();
    const before = process.memoryUsage().rss;
    t.write(big);
    t.write('tail');
    const grown = process.memoryUsage().rss - before;
    // Before the backlog, the unsent ~128 MiB was copied into the native buffer here.
    expect(grown).toBeLessThan(16 * MiB);
    expect(t.bufferedAmount()).toBeGreaterThan(BIG - 16 * MiB);
    t.loseConnection();
    const closed = signal();
    client.on('close', () => closed.resolve());
    const got = await drain(client);
    expect(got.length).toBe(BIG + 4);
    expect(got.hash).toBe(sha1(big, Buffer.from('tail')));
    await closed.promise;
    expect(t.connected).toBe(false);
  });

  it('writeSequence of a large total, then loseWriteConnection: every byte, in order, then EOF', async () => {
    const parts = [Buffer.from('head'), patterned(3 * MiB + 5), Buffer.from('middle'), patterned(2 * MiB)];
    const { client, t } = await pausedPair();
    t.writeSequence(parts);
    t.write('after');
    t.loseWriteConnection();
    const got = await drain(client);
    expect(got.length).toBe(parts.reduce((n, p) => n + p.length, 0) + 5);
    expect(got.hash).toBe(sha1(...parts, Buffer.from('after')));
    const closed = signal();
    client.on('close', () => closed.resolve());
    client.end();
    await closed.promise;
  });
});
