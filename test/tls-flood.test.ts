/**
 * A handshake flood on listenSSL, on every backend: handshakes are rationed
 * per wake-up (a share of the loop's time, native/handshake_ration.h), so
 * while many new connections handshake at once, established connections
 * keep being served, and the rationed handshakes still all complete while
 * established traffic keeps the loop busy. Node's tls is the client; nothing
 * here measures time.
 */
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import { Factory, Protocol } from '../lib/protocol';
import { Reactor } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { closed } from './helpers/checks';
import { makeCerts, TestCerts } from './helpers/certs';
import { until } from './helpers/tcp';

jest.setTimeout(30000);

const BUSY = 8;
const FLOOD = 150;
const MESSAGE = Buffer.alloc(1024, 0x62);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

class Echo extends Protocol {
  override dataReceived(data: Buffer): void {
    this.transport!.write(data);
  }
}

/** A Node tls client; resolves once the handshake is done (rejects on error). */
function connect(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: certs.ca.cert, servername: 'localhost' }, () => resolve(s));
    s.once('error', reject);
  });
}

/** A client that sends MESSAGE again each time the whole echo is back; counts the round trips. */
class BusyClient {
  trips = 0;
  private got = 0;
  private stopped = false;

  constructor(readonly socket: tls.TLSSocket) {
    socket.on('data', (d: Buffer) => {
      this.got += d.length;
      if (this.got < MESSAGE.length) return;
      this.got -= MESSAGE.length;
      this.trips++;
      if (!this.stopped) socket.write(MESSAGE);
    });
    socket.write(MESSAGE);
  }

  stop(): void {
    this.stopped = true;
  }
}

/** Connects, sends one byte and resolves with the socket once it is echoed. */
async function floodClient(port: number): Promise<tls.TLSSocket> {
  const s = await connect(port);
  await new Promise<void>((resolve) => {
    s.once('data', () => resolve());
    s.write('x');
  });
  return s;
}

forEachBackend('TLS handshake flood', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it(`${BUSY} busy connections keep being served while ${FLOOD} new ones handshake, and every handshake completes`, async () => {
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = r.listenSSL(0, Factory.forProtocol(Echo), opts, { interface: '127.0.0.1' });
    const num = (port.getHost() as IPv4Address).port;
    const busy = await Promise.all(Array.from({ length: BUSY }, async () => new BusyClient(await connect(num))));
    await until(() => busy.every((b) => b.trips >= 3), 10000, 'busy connections under way');

    const before = busy.map((b) => b.trips);
    const flood = await Promise.all(Array.from({ length: FLOOD }, () => floodClient(num)));
    // Every busy connection had round trips while the flood was handshaking.
    busy.forEach((b, i) => expect(b.trips).toBeGreaterThan(before[i]));
    expect(flood).toHaveLength(FLOOD);

    for (const b of busy) b.stop();
    const all = [...busy.map((b) => b.socket), ...flood];
    for (const s of all) s.destroy();
    await Promise.all(all.map((s) => closed(s)));
    await port.stopListening();
  });

  it('a flood with no other traffic: every handshake completes (the floors keep it moving)', async () => {
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = r.listenSSL(0, Factory.forProtocol(Echo), opts, { interface: '127.0.0.1' });
    const num = (port.getHost() as IPv4Address).port;
    const flood = await Promise.all(Array.from({ length: FLOOD }, () => floodClient(num)));
    expect(flood).toHaveLength(FLOOD);
    for (const s of flood) s.destroy();
    await Promise.all(flood.map((s) => closed(s)));
    await port.stopListening();
  });
});
