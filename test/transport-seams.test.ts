/**
 * The seams a new transport kind (TLS) builds on, every backend: a
 * StreamTransport subclass that changes the bytes on the write path, made by
 * a Port subclass, carries a real connection without any TCP code knowing.
 */
import * as net from 'net';
import { IPv4Address } from '../lib/address';
import { Factory } from '../lib/protocol';
import { Port, Reactor, StreamTransport } from '../lib/reactor';
import { tcpPortConfig } from '../lib/tcp/options';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { Echo, keeping, signal } from './helpers/tcp';

jest.setTimeout(15000);

/** XORs every byte with 0x20: stands in for a cipher on the way out. */
function mask(data: Uint8Array): Buffer {
  return Buffer.from(data.map((b) => b ^ 0x20));
}

/** A transport whose write path masks the bytes, as a TLS transport encrypts them. */
class MaskedTransport extends StreamTransport {
  sent = 0;
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

  it('a subclass write path carries write() and writeSequence() to the peer', async () => {
    const f = keeping(Echo);
    const { port, number } = listenMasked(f);
    const client = net.connect(number, '127.0.0.1');
    const got: Buffer[] = [];
    const enough = signal();
    client.on('data', (d) => {
      got.push(d);
      if (Buffer.concat(got).length >= 10) enough.resolve();
    });
    client.write('hello');
    const server = await f.nextProtocol();
    await server.waitForBytes(5);
    server.transport!.writeSequence(['ab', Buffer.from('cde')]);
    await enough.promise;
    expect(Buffer.concat(got)).toEqual(mask(Buffer.from('helloabcde')));
    expect(port.made).toHaveLength(1);
    expect(port.made[0].sent).toBe(10);
    client.destroy();
    await server.lost;
    await port.stopListening();
  });
});
