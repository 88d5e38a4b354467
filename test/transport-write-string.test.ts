/**
 * transport.write(string), every backend, plaintext and TLS, against Node
 * peers: a string reaches the peer as Buffer.from(string) would (UTF-8,
 * lone surrogates as U+FFFD), whether the native write encodes it (up to
 * STRING_AT_ONCE characters) or it goes as a Buffer (longer), in order with
 * Buffers written around it, from inside a delivery (gathered) and from a
 * timer (sent at once), and not at all once the connection is closing.
 */
import * as net from 'net';
import * as tls from 'tls';
import { IPv4Address } from '../lib/address';
import { STRING_AT_ONCE } from '../lib/native';
import { Reactor } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { keeping, Recorder } from './helpers/tcp';

jest.setTimeout(20000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/** What each side writes: every kind of string, at both lengths' edges, with Buffers between. */
const PIECES: (string | Buffer)[] = [
  'plain ',
  Buffer.from('[bytes]'),
  'h\u00e9 \u20ac \u{1d11e} ',
  '\ud800 lone \udfff',
  '',
  '\u20ac'.repeat(STRING_AT_ONCE), // the longest the native write encodes: 12 KiB of UTF-8
  'y'.repeat(STRING_AT_ONCE + 1), // one past it: written as a Buffer
  Buffer.from('[end]'),
];
const EXPECTED = Buffer.concat(PIECES.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));

/** On its first data (a delivery) writes PIECES; on its second, the same from outside the loop (setImmediate), then closes; later writes are dropped. */
class StringWriter extends Recorder {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    if (this.received.length === 1) {
      for (const p of PIECES) this.transport.write(p);
      return;
    }
    setImmediate(() => {
      for (const p of PIECES) this.transport.write(p);
      this.transport.loseConnection();
      this.transport.write('after loseConnection');
    });
  }
}

/** Sends "1", waits for the first copy of EXPECTED, sends "2", and resolves with all it read before the close. */
function drive(s: net.Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  let asked = false;
  s.on('data', (d: Buffer) => {
    parts.push(d);
    if (!asked && Buffer.concat(parts).length >= EXPECTED.length) {
      asked = true;
      s.write('2');
    }
  });
  s.write('1');
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.once('close', () => resolve(Buffer.concat(parts)));
  });
}

forEachBackend('transport.write(string)', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  it('reaches a Node net peer as Buffer.from would make it, gathered or not, and nothing after loseConnection', async () => {
    const port = r.listenTCP(0, keeping(StringWriter), { interface: '127.0.0.1' });
    const s = net.connect((port.getHost() as IPv4Address).port, '127.0.0.1');
    const got = await drive(s);
    expect(got.equals(Buffer.concat([EXPECTED, EXPECTED]))).toBe(true);
    await port.stopListening();
  });

  it('is encrypted like any write on a TLS connection (Node tls peer)', async () => {
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = r.listenSSL(0, keeping(StringWriter), opts, { interface: '127.0.0.1' });
    const s = tls.connect({ host: '127.0.0.1', port: (port.getHost() as IPv4Address).port, ca: certs.ca.cert, servername: 'localhost' });
    const got = await drive(s);
    expect(got.equals(Buffer.concat([EXPECTED, EXPECTED]))).toBe(true);
    await port.stopListening();
  });
});
