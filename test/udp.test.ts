/**
 * listenUDP on every backend over loopback: echo between two ports with real
 * addresses, IPv6 and dual-stack, batches of datagrams, truncation at
 * maxPacketSize, connected UDP with connectionRefused, Node's dgram as the
 * peer, typed errors for bad input, and a throwing datagramReceived.
 */
import * as dgram from 'dgram';
import { IPv4Address, IPv6Address } from '../lib/address';
import { CannotListenError, DatagramSendError, InvalidAddressError, MessageLengthError, NotListeningError } from '../lib/errors';
import { log, LogEvent } from '../lib/log';
import type { Reactor } from '../lib/reactor';
import { DatagramProtocol, formatIPv6, UDPAddress, UDPPort } from '../lib/udp';
import { forEachBackend, reactorPerTest } from './helpers/backends';

jest.setTimeout(20000);

/** Keeps every datagram; `next(n)` resolves once n have arrived in total. */
class Keeper extends DatagramProtocol {
  got: [Buffer, UDPAddress][] = [];
  events: string[] = [];
  refused = 0;
  private waiters: { n: number; resolve: () => void }[] = [];

  override startProtocol(): void {
    this.events.push('start');
  }
  override stopProtocol(): void {
    this.events.push('stop');
  }
  override datagramReceived(data: Buffer, addr: UDPAddress): void {
    this.got.push([data, addr]);
    this.waiters = this.waiters.filter((w) => (this.got.length >= w.n ? (w.resolve(), false) : true));
  }
  override connectionRefused(): void {
    this.refused++;
    this.waiters = this.waiters.filter((w) => (w.n < 0 ? (w.resolve(), false) : true));
  }
  /** Resolves once n datagrams have arrived in total; rejects after ms (UDP may drop). */
  next(n: number, ms = 5000): Promise<void> {
    if (this.got.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`only ${this.got.length} of ${n} datagrams arrived`)), ms);
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
  whenRefused(): Promise<void> {
    return this.refused > 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push({ n: -1, resolve }));
  }
}

/** Sends every datagram back where it came from. */
class Echo extends DatagramProtocol {
  override datagramReceived(data: Buffer, addr: UDPAddress): void {
    this.transport!.write(data, addr);
  }
}

function portOf(p: UDPPort): number {
  return (p.getHost() as IPv4Address).port;
}

forEachBackend('listenUDP', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it('echoes between two ports with [host, port] addresses and the real port after port 0', async () => {
    const server = r.listenUDP(0, new Echo(), { interface: '127.0.0.1' });
    const client = new Keeper();
    const cport = r.listenUDP(0, client, { interface: '127.0.0.1' });
    const host = server.getHost();
    expect(host).toBeInstanceOf(IPv4Address);
    expect(host.type).toBe('UDP');
    expect(host.port).toBeGreaterThan(0);
    expect(client.transport).toBe(cport);
    expect(client.events).toEqual(['start']);
    expect(cport.write('ping', ['127.0.0.1', host.port])).toBe(4);
    cport.write(Buffer.from('pong'), ['127.0.0.1', host.port]);
    await client.next(2);
    expect(client.got.map(([d]) => d.toString())).toEqual(['ping', 'pong']);
    expect(client.got[0][1]).toEqual(['127.0.0.1', host.port]);
  });

  it('delivers a burst of datagrams in order, several per wake-up, as Buffers the protocol may keep', async () => {
    const rx = new Keeper();
    const port = r.listenUDP(0, rx, { interface: '127.0.0.1' });
    const tx = r.listenUDP(0, new Keeper(), { interface: '127.0.0.1' });
    const n = 100; // well inside the default receive buffer: loopback does not drop these
    const wakeupsBefore = r.stats().wakeups;
    for (let i = 0; i < n; i++) tx.write(`datagram ${i}`, ['127.0.0.1', portOf(port)]);
    await rx.next(n);
    expect(rx.got.map(([d]) => d.toString())).toEqual(Array.from({ length: n }, (_, i) => `datagram ${i}`));
    expect(r.stats().wakeups - wakeupsBefore).toBeLessThan(n);
    expect(rx.got[0][1]).toEqual(['127.0.0.1', portOf(tx)]);
    // Kept, a short datagram holds a small chunk alive, not a read slab (lib/reactor/received.ts).
    for (const [d] of rx.got) expect(d.buffer.byteLength).toBeLessThanOrEqual(Math.max(16 * 1024, 8 * d.length));
  });

  it('truncates datagrams longer than maxPacketSize and delivers empty ones', async () => {
    const rx = new Keeper();
    const port = r.listenUDP(0, rx, { interface: '127.0.0.1', maxPacketSize: 16 });
    const tx = r.listenUDP(0, new Keeper(), { interface: '127.0.0.1' });
    tx.write(Buffer.alloc(100, 0x41), ['127.0.0.1', portOf(port)]);
    tx.write('', ['127.0.0.1', portOf(port)]);
    await rx.next(2);
    expect(rx.got[0][0]).toEqual(Buffer.alloc(16, 0x41));
    expect(rx.got[1][0].length).toBe(0);
  });

  it('works over IPv6, and a "::" port hears IPv4 senders as ::ffff: addresses', async () => {
    const rx6 = new Keeper();
    const p6 = r.listenUDP(0, rx6, { interface: '::1' });
    expect(p6.getHost()).toBeInstanceOf(IPv6Address);
    const tx6 = r.listenUDP(0, new Keeper(), { interface: '::1' });
    tx6.write('six', ['::1', portOf(p6)]);
    await rx6.next(1);
    expect(rx6.got[0][1]).toEqual(['::1', portOf(tx6)]);

    const any = new Keeper();
    const pany = r.listenUDP(0, any, { interface: '::' });
    const tx4 = r.listenUDP(0, new Keeper(), { interface: '127.0.0.1' });
    tx4.write('four', ['127.0.0.1', portOf(pany)]);
    await any.next(1);
    expect(any.got[0][1]).toEqual(['::ffff:127.0.0.1', portOf(tx4)]);
  });

  it('talks to Node dgram sockets both ways', async () => {
    const rx = new Keeper();
    const port = r.listenUDP(0, rx, { interface: '127.0.0.1' });
    const sock = dgram.createSocket('udp4');
    try {
      await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
      const replies = new Promise<string>((res) => sock.once('message', (m) => res(m.toString())));
      sock.send('from node', portOf(port), '127.0.0.1');
      await rx.next(1);
      expect(rx.got[0][1]).toEqual(['127.0.0.1', sock.address().port]);
      port.write('to node', rx.got[0][1]);
      expect(await replies).toBe('to node');
    } finally {
      sock.close();
    }
  });

  it('connected UDP: write needs no address, a dead peer gives connectionRefused, the port lives on', async () => {
    const gone = r.listenUDP(0, new Keeper(), { interface: '127.0.0.1' });
    const deadPort = portOf(gone);
    await gone.stopListening();
    const p = new Keeper();
    const port = r.listenUDP(0, p, { interface: '127.0.0.1' });
    port.connect('127.0.0.1', deadPort);
    expect(() => port.connect('127.0.0.1', deadPort)).toThrow(/already connected/);
    expect(() => port.write('x', ['127.0.0.1', deadPort + 1 === 65536 ? 1 : deadPort + 1])).toThrow(InvalidAddressError);
    port.write('anyone?');
    await p.whenRefused();
    expect(p.refused).toBeGreaterThanOrEqual(1);
    expect(port.write('still usable')).toBeGreaterThanOrEqual(0);
  });

  it('stopListening fires after stopProtocol and closes the socket; getHost keeps working', async () => {
    const p = new Keeper();
    const port = r.listenUDP(0, p, { interface: '127.0.0.1' });
    const number = portOf(port);
    const d = port.stopListening();
    expect(port.stopListening()).toBe(d);
    await d;
    expect(p.events).toEqual(['start', 'stop']);
    expect(p.transport).toBeNull();
    expect(port.getHost().port).toBe(0);
    expect(() => port.write('x', ['127.0.0.1', number])).toThrow(NotListeningError);
    expect(() => port.connect('127.0.0.1', number)).toThrow(NotListeningError);
    // The port number is free again.
    const again = r.listenUDP(number, new Keeper(), { interface: '127.0.0.1' });
    expect(portOf(again)).toBe(number);
  });

  it('rejects bad input with typed errors', () => {
    const p = new Keeper();
    expect(() => r.listenUDP(-1, p)).toThrow(RangeError);
    expect(() => r.listenUDP(0, {} as DatagramProtocol)).toThrow(TypeError);
    expect(() => r.listenUDP(0, p, { interface: 'localhost' })).toThrow(CannotListenError);
    expect(() => r.listenUDP(0, p, { maxPacketSize: 0 })).toThrow(TypeError);
    expect(() => r.listenUDP(0, p, { maxPacketSize: 70000 })).toThrow(TypeError);
    const port = r.listenUDP(0, p, { interface: '127.0.0.1' });
    expect(() => r.listenUDP(portOf(port), new Keeper(), { interface: '127.0.0.1' })).toThrow(CannotListenError);
    expect(() => port.write('x', ['localhost', 9])).toThrow(InvalidAddressError);
    expect(() => port.write('x')).toThrow(TypeError);
    expect(() => port.write(42 as unknown as string, ['127.0.0.1', 9])).toThrow(TypeError);
    expect(() => port.write('x', ['127.0.0.1', 70000])).toThrow(RangeError);
    expect(() => port.write(Buffer.alloc(70000), ['127.0.0.1', portOf(port)])).toThrow(MessageLengthError);
    expect(() => port.connect('example.com', 53)).toThrow(InvalidAddressError);
  });

  it('a send the system refuses is a typed error: another address family, a broadcast address', () => {
    const port = r.listenUDP(0, new Keeper(), { interface: '127.0.0.1' });
    expect(() => port.write('x', ['::1', 9])).toThrow(InvalidAddressError);
    expect(() => port.write('x', ['::1', 9])).toThrow(/EAFNOSUPPORT/);
    for (const broadcast of ['255.255.255.255', '127.255.255.255']) {
      let err: unknown;
      try {
        port.write('x', [broadcast, 9]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(DatagramSendError);
      expect((err as DatagramSendError).code).toBe('EACCES');
      expect((err as DatagramSendError).address).toEqual([broadcast, 9]);
    }
    expect(() => port.connect('::1', 9)).toThrow(InvalidAddressError);
    // The port still works.
    expect(port.write('x', ['127.0.0.1', portOf(port)])).toBe(1);
  });

  it('logs a throwing datagramReceived and keeps listening', async () => {
    const events: LogEvent[] = [];
    const obs = (e: LogEvent): void => void events.push(e);
    log.addObserver(obs);
    try {
      const rx = new Keeper();
      let first = true;
      const keep = rx.datagramReceived.bind(rx);
      rx.datagramReceived = (data, addr) => {
        if (first) {
          first = false;
          throw new Error('boom in datagramReceived');
        }
        keep(data, addr);
      };
      const port = r.listenUDP(0, rx, { interface: '127.0.0.1' });
      const tx = r.listenUDP(0, new Keeper(), { interface: '127.0.0.1' });
      tx.write('one', ['127.0.0.1', portOf(port)]);
      tx.write('two', ['127.0.0.1', portOf(port)]);
      await rx.next(1);
      expect(rx.got[0][0].toString()).toBe('two');
      expect(events.some((e) => String(e.failure?.value).includes('boom in datagramReceived'))).toBe(true);
    } finally {
      log.removeObserver(obs);
    }
  });

  it('reads the same with one recvmsg per datagram (setBatchReads(false))', async () => {
    const rx = new Keeper();
    const port = r.listenUDP(0, rx, { interface: '127.0.0.1' });
    port.setBatchReads(false);
    const tx = r.listenUDP(0, new Keeper(), { interface: '127.0.0.1' });
    for (let i = 0; i < 50; i++) tx.write(`d${i}`, ['127.0.0.1', portOf(port)]);
    await rx.next(50);
    expect(rx.got.map(([d]) => d.toString())).toEqual(Array.from({ length: 50 }, (_, i) => `d${i}`));
  });
});

describe('formatIPv6', () => {
  it('writes addresses as Node does', () => {
    const cases = ['::1', '::', 'fe80::1', '2001:db8::8:800:200c:417a', '::ffff:10.0.0.1', '1:2:3:4:5:6:7:8', '1::4:0:0:7:8'];
    for (const text of cases) {
      const bytes = Buffer.alloc(16);
      const groups = expandV6(text);
      groups.forEach((g, i) => bytes.writeUInt16BE(g, i * 2));
      expect(formatIPv6(bytes, 0)).toBe(text);
    }
  });
});

/** Eight 16-bit groups of an IPv6 text (test helper; handles one '::' and a dotted tail). */
function expandV6(text: string): number[] {
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  let t = text;
  const extra: number[] = [];
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number);
    extra.push((a << 8) | b, (c << 8) | d);
    t = text.slice(0, tail.index) + '0';
  }
  const [head, rest] = t.split('::');
  const h = head ? head.split(':').map((x) => parseInt(x, 16)) : [];
  const r = rest !== undefined ? (rest ? rest.split(':').map((x) => parseInt(x, 16)) : []) : [];
  if (tail) r.pop();
  const fill = 8 - h.length - r.length - extra.length;
  return [...h, ...Array(rest !== undefined ? fill : 0).fill(0), ...r, ...extra];
}
