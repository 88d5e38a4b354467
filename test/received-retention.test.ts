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
});
