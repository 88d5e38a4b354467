/**
 * `haproxy:ssl:`, every backend: the PROXY header comes in the clear, then
 * the client's TLS. The client's first TLS flight may arrive in the same
 * read as the header (then it is fed to the TLS engine) or after it; both
 * end in a TLS connection whose getPeer() is the carried address.
 */
import * as net from 'net';
import * as tls from 'tls';
import { IPv4Address } from '../lib/address';
import { serverFromString } from '../lib/endpoints';
import type { IListeningPort } from '../lib/interfaces';
import type { Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { v1 } from './helpers/proxy-header';
import { captureLog, Echo, keeping, until } from './helpers/tcp';

jest.setTimeout(20000);

const client = { host: '203.0.113.9', port: 40001 };
const front = { host: '198.51.100.2', port: 443 };

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/** Sends the header, then talks TLS over the same socket; `together` corks them into one segment. */
async function tlsThrough(port: number, together: boolean, before: () => Promise<void>): Promise<string> {
  const raw = net.connect(port, '127.0.0.1');
  await new Promise<void>((res) => raw.once('connect', res));
  raw.setNoDelay(true);
  if (together) raw.cork();
  raw.write(v1(client, front));
  if (!together) await before();
  const s = tls.connect({ socket: raw, ca: certs.ca.cert, servername: 'localhost' });
  if (together) setImmediate(() => raw.uncork());
  await new Promise<void>((res, rej) => {
    s.once('secureConnect', res);
    s.once('error', rej);
  });
  s.write('secret');
  let got = '';
  s.setEncoding('utf8');
  await new Promise<void>((res) => s.on('data', (d: string) => (got += d) === 'secret' && res()));
  s.destroy();
  return got;
}

forEachBackend('haproxy:ssl: endpoint', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);
  let port: IListeningPort;
  afterEach(async () => {
    await port?.stopListening();
  });

  for (const together of [true, false]) {
    it(`TLS after the header (${together ? 'hello in the same segment' : 'hello after the header was taken'})`, async () => {
      const f = keeping(Echo);
      port = await serverFromString(r, `haproxy:ssl:0:interface=127.0.0.1:privateKey=${certs.server.keyPath}:certKey=${certs.server.certPath}`).listen(f);
      const p = (port.getHost() as IPv4Address).port;
      const got = await tlsThrough(p, together, () => until(() => f.built.length === 1, 5000, 'the header'));
      expect(got).toBe('secret');
      expect(f.built[0].transport.getPeer()).toEqual(new IPv4Address('TCP', client.host, client.port));
    });
  }

  it('plain bytes after the header where TLS is expected: that connection is dropped, logged', async () => {
    const f = keeping(Echo);
    port = await serverFromString(r, `haproxy:ssl:0:interface=127.0.0.1:privateKey=${certs.server.keyPath}:certKey=${certs.server.certPath}`).listen(f);
    const p = (port.getHost() as IPv4Address).port;
    const logs = captureLog();
    try {
      const raw = net.connect(p, '127.0.0.1');
      raw.on('error', () => {});
      raw.write(Buffer.concat([v1(client, front), Buffer.from('GET / HTTP/1.1\r\n\r\n')]));
      await new Promise((res) => raw.once('close', res));
      await until(() => logs.events.length > 0, 5000, 'a log line');
      expect(logs.events.map((e) => e.level)).toEqual(['warn']);
      expect(logs.events[0].message).toMatch(/TLS could not start/);
    } finally {
      logs.stop();
    }
  });
});
