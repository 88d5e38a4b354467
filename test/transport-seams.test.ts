/**
 * The seams new transport and handler kinds build on, every backend: a
 * StreamTransport subclass that changes the bytes on both paths (as TLS
 * does), made by a Port subclass, carries a real connection without any TCP
 * code knowing; a Handler kind the reactor has never heard of gets its
 * records through typed hooks and is asked to disconnect at shutdown.
 */
import * as dgram from 'dgram';
import * as net from 'net';
import { IPv4Address } from '../lib/address';
import { Factory } from '../lib/protocol';
import { Port, Reactor, StreamTransport } from '../lib/reactor';
import { Handler } from '../lib/reactor/handler';
import { tcpPortConfig } from '../lib/tcp/options';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { Echo, keeping, signal } from './helpers/tcp';

jest.setTimeout(15000);

/** XORs every byte with 0x20: stands in for a cipher on the way out. */
function mask(data: Uint8Array): Buffer {
  return Buffer.from(data.map((b) => b ^ 0x20));
}

/** A transport masking the bytes it sends and unmasking those it reads, as TLS encrypts and decrypts. */
class MaskedTransport extends StreamTransport {
  sent = 0;
  override onData(data: Buffer): void {
    super.onData(mask(data));
  }
  protected override sendBytes(data: Uint8Array): number {
    this.sent += data.length;
    return super.sendBytes(mask(data));
  }
  protected override sendChunks(chunks: Uint8Array[]): number {
    return this.sendBytes(Buffer.concat(chunks));
  }
}

/** A port making MaskedTransports. */
class MaskedPort extends Port {
  readonly made: MaskedTransport[] = [];
  protected override makeTransport(slot: number, gen: number): StreamTransport {
    const core = this.reactor.core;
    const t = new MaskedTransport(core, core.native, slot, gen, this, this.reactor.highWaterMark);
    this.made.push(t);
    return t;
  }
}

forEachBackend('StreamTransport subclass seams', (backend) => {
  let r!: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  function listenMasked(f: Factory): { port: MaskedPort; number: number } {
    const port = new MaskedPort(r, tcpPortConfig(0, f, { interface: '127.0.0.1' }), f);
    port.startListening();
    return { port, number: (port.getHost() as IPv4Address).port };
  }

  it('a subclass read and write path carry dataReceived, write() of bytes and strings, and writeSequence()', async () => {
    const f = keeping(Echo);
    const { port, number } = listenMasked(f);
    const client = net.connect(number, '127.0.0.1');
    const got: Buffer[] = [];
    const enough = signal();
    client.on('data', (d) => {
      got.push(d);
      if (Buffer.concat(got).length >= 12) enough.resolve();
    });
    client.write(mask(Buffer.from('hello')));
    const server = await f.nextProtocol();
    await server.waitForBytes(5);
    expect(server.bytes.toString()).toBe('hello');
    server.transport!.writeSequence(['ab', Buffer.from('cde')]);
    server.transport!.write('fg'); // a string, which the base class would encode natively, still goes through sendBytes
    await enough.promise;
    expect(Buffer.concat(got)).toEqual(mask(Buffer.from('helloabcdefg')));
    expect(port.made).toHaveLength(1);
    expect(port.made[0].sent).toBe(12);
    client.destroy();
    await server.lost;
    await port.stopListening();
  });
});

/** A handler kind of the test's own on a native UDP slot: records what the reactor tells it. */
class Probe extends Handler {
  readonly datagrams: string[] = [];
  disconnects = 0;
  readonly got = signal();
  constructor(private readonly r: Reactor) {
    super();
  }
  override onDatagram(slab: Buffer, at: number, length: number): void {
    // The sender header is 8 bytes for IPv4 (family, pad, port, address).
    this.datagrams.push(slab.subarray(at + 8, at + 8 + length).toString());
    this.got.resolve();
  }
  override failed(): void {}
  override disconnect(): void {
    this.disconnects++;
    this.r.core.unregister(this);
  }
}

forEachBackend('Handler contract', (backend) => {
  let r!: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);

  it('a new handler kind gets typed records and disconnect() without the reactor knowing it', async () => {
    const native = r.core.native;
    const slot = native.udpBind(4, '127.0.0.1', 0, 2048);
    expect(slot).toBeGreaterThanOrEqual(0);
    const probe = new Probe(r);
    probe.slot = slot;
    probe.gen = native.generation(slot);
    r.core.register(probe);
    const addr = native.localAddress(slot, probe.gen);
    if (typeof addr === 'number') throw new Error(`localAddress failed: ${addr}`);
    const sender = dgram.createSocket('udp4');
    try {
      sender.send('ping', addr.port, '127.0.0.1');
      await probe.got.promise;
      expect(probe.datagrams).toEqual(['ping']);
      r.disconnectAll();
      expect(probe.disconnects).toBe(1);
      expect(probe.slot).toBe(-1);
      expect(r.stats().handlers).toBe(0);
    } finally {
      sender.close();
    }
  });
});
