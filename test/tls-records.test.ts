/**
 * Writes made in one tick share TLS records, on every backend. A plain TCP
 * relay between a Node tls client and listenSSL reads the record headers
 * going to the client and counts the application_data records: many small
 * write() calls in one tick (inside a record batch, or from a timer) must
 * arrive as ⌈bytes / 16 KiB⌉ records, not one record per write. And the
 * writes of many connections in one tick are flushed by one call into
 * native, not one per connection.
 */
import * as net from 'net';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import { Factory, Protocol } from '../lib/protocol';
import { Reactor } from '../lib/reactor';
import type { ReactorCore } from '../lib/reactor/core';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { closed } from './helpers/checks';
import { makeCerts, TestCerts } from './helpers/certs';
import { until } from './helpers/tcp';

jest.setTimeout(20000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/** Counts TLS application_data (type 23) records flowing from `port` back to whoever connects to the relay. */
class RecordCountingRelay {
  records = 0;
  private readonly server: net.Server;
  private readonly sockets: net.Socket[] = [];

  constructor(private readonly target: number) {
    this.server = net.createServer((down) => {
      const up = net.connect(this.target, '127.0.0.1');
      this.sockets.push(down, up);
      down.pipe(up);
      let pending = Buffer.alloc(0);
      up.on('data', (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
          if (pending[0] === 23) this.records++;
          pending = pending.subarray(5 + pending.readUInt16BE(3));
        }
        down.write(d);
      });
      up.on('end', () => down.end());
      for (const s of [up, down]) s.on('error', () => undefined);
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((res) => this.server.listen(0, '127.0.0.1', res));
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.sockets.map((s) => closed(s)));
    await new Promise((res) => this.server.close(res));
  }
}

/** On "mark": one byte back; on "burst:N:SIZE:how": N writes of SIZE bytes in one tick. */
class Burster extends Protocol {
  override dataReceived(data: Buffer): void {
    const cmd = data.toString();
    if (cmd === 'mark') return this.transport!.write('M');
    const [, n, size, how] = cmd.split(':');
    const burst = (): void => {
      for (let i = 0; i < Number(n); i++) this.transport!.write(Buffer.alloc(Number(size), 0x61));
    };
    if (how === 'now') burst();
    else setTimeout(burst, 1); // outside the reactor's dispatch
  }
}

forEachBackend('TLS records per tick', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    for (const [n, size, how, expected] of [
      [100, 10, 'now', 1],
      [100, 10, 'timer', 1],
      [40, 1000, 'now', 3], // 40,000 bytes: ⌈40000 / 16384⌉
    ] as const) {
      it(`${n} writes of ${size} bytes in one tick (${how === 'now' ? 'in a record batch' : 'from a timer'}, ${version}) make ${expected} record(s)`, async () => {
        const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
        const port = (r.listenSSL(0, Factory.forProtocol(Burster), opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
        const relay = new RecordCountingRelay(port);
        const via = await relay.listen();
        const s = tls.connect({ host: '127.0.0.1', port: via, ca: certs.ca.cert, servername: 'localhost', maxVersion: version, minVersion: version });
        try {
          let got = Buffer.alloc(0);
          s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
          await new Promise<void>((res, rej) => {
            s.once('secureConnect', () => res());
            s.once('error', rej);
          });
          // Everything the server sent before (tickets, the marker) is counted once the marker is here.
          s.write('mark');
          await until(() => got.length === 1, 10000, 'the marker');
          const before = relay.records;
          s.write(`burst:${n}:${size}:${how}`);
          await until(() => got.length === 1 + n * size, 10000, 'the burst');
          expect(relay.records - before).toBe(expected);
        } finally {
          s.destroy();
          await closed(s);
          await relay.close();
        }
      });
    }
  }
});

/** Answers every read with one byte; `all` holds every connection, so a test can write to all of them at once. */
class Kept extends Protocol {
  static all: Kept[] = [];

  override connectionMade(): void {
    Kept.all.push(this);
  }

  override dataReceived(): void {
    this.transport!.write('M');
  }
}

forEachBackend('TLS flush per tick', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it('the writes of 8 connections in one tick go out with one tlsFlushAll call into native', async () => {
    const kept: Kept[] = (Kept.all = []);
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (r.listenSSL(0, Factory.forProtocol(Kept), opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const clients: tls.TLSSocket[] = [];
    const got: string[] = [];
    try {
      for (let i = 0; i < 8; i++) {
        const s = tls.connect({ host: '127.0.0.1', port, ca: certs.ca.cert, servername: 'localhost' });
        const k = clients.push(s) - 1;
        got.push('');
        s.on('data', (d: Buffer) => (got[k] += d.toString()));
        s.write('hello'); // answered once the handshake is done: every connection is established
      }
      await until(() => got.every((g) => g === 'M'), 10000, 'every marker');
      const loop = (r as unknown as { core: ReactorCore }).core.native;
      const flushAll = loop.tlsFlushAll;
      let calls = 0;
      loop.tlsFlushAll = function (this: typeof loop) {
        calls++;
        return flushAll.call(this);
      };
      try {
        setTimeout(() => {
          for (const p of kept) {
            p.transport!.write('a');
            p.transport!.write('b');
          }
        }, 1);
        await until(() => got.every((g) => g === 'Mab'), 10000, 'every burst');
      } finally {
        delete (loop as Partial<typeof loop>).tlsFlushAll;
      }
      expect(calls).toBe(1);
    } finally {
      for (const s of clients) s.destroy();
      await Promise.all(clients.map((s) => closed(s)));
    }
  });
});
