/**
 * What a received Buffer keeps alive, on every backend: a protocol may keep
 * what dataReceived gets, so a peer that wraps short values in junk must not
 * make each kept value pin a whole read slab. Every Buffer of n bytes handed
 * to dataReceived holds at most max(16 KiB, 8n) bytes (lib/reactor/received.ts).
 */
import * as net from 'net';
import type { IPv4Address } from '../lib/address';
import { Factory, Protocol } from '../lib/protocol';
import { createReactor, Reactor } from '../lib/reactor';
import { ReceivedCopier } from '../lib/reactor/received';
import { forEachBackend } from './helpers/backends';
import { withTimeout } from './helpers/checks';

jest.setTimeout(30000);

const SHORT = 16;
const JUNK = 200 * 1024;
const ROUNDS = 8;

/** The most memory a kept Buffer of `n` bytes may hold alive. */
const bound = (n: number): number => Math.max(16 * 1024, 8 * n);

/** Keeps every short chunk (and acknowledges it); notes how much every chunk holds alive. */
class Keeper extends Protocol {
  static kept: Buffer[] = [];
  static worst = 0;
  static junk = 0;
  /** Called once `junkExpected` bytes of junk have arrived. */
  static junkDone: () => void = () => {};
  static junkExpected = Infinity;
  override dataReceived(data: Buffer): void {
    Keeper.worst = Math.max(Keeper.worst, data.buffer.byteLength / bound(data.length));
    if (data.length > SHORT) {
      Keeper.junk += data.length;
      if (Keeper.junk >= Keeper.junkExpected) Keeper.junkDone();
      return;
    }
    Keeper.kept.push(data);
    this.transport!.write('k');
  }
}

forEachBackend('received Buffers', (backend) => {
  let reactor: Reactor;
  let peer: net.Socket | null = null;

  beforeEach(() => {
    reactor = createReactor({ backend });
    Keeper.kept = [];
    Keeper.worst = 0;
    Keeper.junk = 0;
    Keeper.junkExpected = Infinity;
  });

  afterEach(() => {
    peer?.destroy();
    peer = null;
    reactor.close();
  });

  test('short values kept between junk hold little memory, and no Buffer holds more than the bound', async () => {
    const port = reactor.listenTCP(0, Factory.forProtocol(Keeper), { interface: '127.0.0.1' });
    const s = net.connect((port.getHost() as IPv4Address).port, '127.0.0.1');
    peer = s;
    await withTimeout(new Promise((res) => s.once('connect', res)), 5000, 'connect');
    const junk = Buffer.alloc(JUNK, 0x6a);
    for (let i = 0; i < ROUNDS; i++) {
      const acked = new Promise((res) => s.once('data', res));
      s.write(`value-${i}`);
      await withTimeout(acked, 5000, `ack ${i}`);
      // All the junk is read before the next value, so no read mixes the two.
      Keeper.junkExpected = (i + 1) * JUNK;
      const junkRead = new Promise<void>((res) => (Keeper.junkDone = res));
      s.write(junk);
      await withTimeout(junkRead, 5000, `junk ${i}`);
    }
    expect(Keeper.kept.map((b) => b.toString())).toEqual(Array.from({ length: ROUNDS }, (_, i) => `value-${i}`));
    const held = new Set(Keeper.kept.map((b) => b.buffer));
    const heldBytes = [...held].reduce((sum, ab) => sum + ab.byteLength, 0);
    expect(heldBytes).toBeLessThanOrEqual(bound(SHORT) * ROUNDS);
    for (const b of Keeper.kept) expect(b.buffer.byteLength).toBeLessThanOrEqual(bound(b.length));
    expect(Keeper.worst).toBeLessThanOrEqual(1);
  });

  test('short reads of many connections in one wake-up, filling more than one keep chunk, arrive whole', async () => {
    // 8 reads of ~4 KiB in one batch are ~32 KiB: the bridge copies them into
    // as many 16 KiB chunks as they need, all handed over in one crossing.
    const CONNS = 8;
    const SIZE = 4000;
    const message = (i: number): Buffer => Buffer.from(Array.from({ length: SIZE }, (_, j) => (i * 31 + j) & 0xff));
    const got: Buffer[][] = [];
    let made = 0;
    let allMade: () => void = () => {};
    let allIn: () => void = () => {};
    class Collector extends Protocol {
      readonly chunks: Buffer[] = [];
      override connectionMade(): void {
        got.push(this.chunks);
        if (++made === CONNS) allMade();
      }
      override dataReceived(data: Buffer): void {
        this.chunks.push(data);
        const total = got.reduce((sum, c) => sum + c.reduce((n, b) => n + b.length, 0), 0);
        if (total === CONNS * SIZE) allIn();
      }
    }
    const port = reactor.listenTCP(0, Factory.forProtocol(Collector), { interface: '127.0.0.1' });
    const made8 = new Promise<void>((res) => (allMade = res));
    const in8 = new Promise<void>((res) => (allIn = res));
    const peers = Array.from({ length: CONNS }, () => net.connect((port.getHost() as IPv4Address).port, '127.0.0.1'));
    const copier = jest.spyOn(ReceivedCopier.prototype, 'take');
    try {
      await withTimeout(made8, 5000, 'connections made');
      // Client i's first byte is i * 31; all written in one tick, read in one wake-up.
      peers.forEach((p, i) => p.write(message(i)));
      await withTimeout(in8, 5000, 'all data in');
      const byClient = got.map((chunks) => Buffer.concat(chunks)).sort((a, b) => a[0] - b[0]);
      expect(byClient.map((b, i) => b.equals(message(i)))).toEqual(Array<boolean>(CONNS).fill(true));
      for (const b of got.flat()) expect(b.buffer.byteLength).toBeLessThanOrEqual(bound(b.length));
      // None went to the JS copier (two typed arrays and a set each): the bridge had a chunk for every one
      expect(copier).not.toHaveBeenCalled();
      expect(new Set(got.flat().map((b) => b.buffer)).size).toBeGreaterThan(1);
    } finally {
      copier.mockRestore();
      for (const p of peers) p.destroy();
    }
  });
});
