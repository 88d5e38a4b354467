/**
 * What a TLS server refuses, on every backend, with Node's tls and
 * `openssl s_client` as the peers: client-initiated renegotiation (TLS 1.2)
 * is refused and the connection stays as it was; a client offering no
 * cipher the server accepts fails the handshake with TLSError
 * NO_SHARED_CIPHER on our side, and only that connection goes.
 */
import { spawn } from 'child_process';
import * as tls from 'tls';
import { TLSError } from '../lib/errors';
import { Reactor } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { closed } from './helpers/checks';
import { makeCerts, TestCerts } from './helpers/certs';
import { until } from './helpers/tcp';
import { listenTLSEcho } from './helpers/tls';

jest.setTimeout(20000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

forEachBackend('TLS refusals', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  const listen = (extra: ConstructorParameters<typeof CertificateOptions>[0] = {}) => listenTLSEcho(r, certs.server, extra);

  it('a Node client asking to renegotiate (TLS 1.2) is refused; no second handshake happens', async () => {
    const { f, num } = listen();
    const s = tls.connect({ host: '127.0.0.1', port: num, ca: certs.ca.cert, servername: 'localhost', maxVersion: 'TLSv1.2' });
    const errors: Error[] = [];
    s.on('error', (e) => errors.push(e));
    await new Promise<void>((res) => s.once('secureConnect', () => res()));
    const refused = await new Promise<Error | null>((res) => {
      if (!s.renegotiate({}, (err) => res(err ?? null))) res(new Error('renegotiate() returned false'));
      s.once('close', () => res(new Error('closed')));
    });
    expect(refused).not.toBeNull();
    await until(() => f.built.length === 1, 5000, 'the server protocol');
    expect(f.built[0].handshakes).toBe(1);
    s.destroy();
    await closed(s);
  });

  it('openssl s_client renegotiating (R, TLS 1.2) is refused', async () => {
    const { f, num } = listen();
    const child = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${num}`, '-tls1_2', '-CAfile', 'ca.pem', '-servername', 'localhost'],
      { cwd: certs.dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
    const exited = new Promise<void>((res) => child.once('close', () => res()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
    try {
      await until(() => out.includes('Verify return code: 0'), 10000, 's_client to connect');
      child.stdin!.write('R\n'); // s_client's renegotiate command
      await until(() => /RENEGOTIATING/.test(out), 10000, 's_client to ask');
      child.stdin!.end();
      await exited;
      await until(() => f.built.length === 1 && f.built[0].lostCount === 1, 10000, 'the server connection to end');
      expect(f.built[0].handshakes).toBe(1);
      expect(out).toMatch(/no renegotiation|NO_RENEGOTIATION/i);
    } finally {
      clearTimeout(timer);
      child.kill('SIGKILL');
    }
  });

  it('no shared cipher: TLSError NO_SHARED_CIPHER on our side, only that connection dropped', async () => {
    const { f, num } = listen({ cipherString: 'ECDHE-RSA-AES256-GCM-SHA384' });
    const s = tls.connect({ host: '127.0.0.1', port: num, ca: certs.ca.cert, servername: 'localhost', maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA' });
    const failed = await new Promise<Error>((res) => s.once('error', res));
    expect(failed.message).toMatch(/handshake failure|alert/i);
    await closed(s);
    await until(() => f.built.length === 1 && f.built[0].lostCount === 1, 5000, 'the server side to see it');
    const err = f.built[0].reason!.value as TLSError;
    expect(err).toBeInstanceOf(TLSError);
    expect(err.code).toBe('NO_SHARED_CIPHER');
    // The port still serves a client that can agree.
    const ok = tls.connect({ host: '127.0.0.1', port: num, ca: certs.ca.cert, servername: 'localhost' });
    await new Promise<void>((res, rej) => {
      ok.once('secureConnect', () => res());
      ok.once('error', rej);
    });
    ok.destroy();
    await closed(ok);
  });
});
