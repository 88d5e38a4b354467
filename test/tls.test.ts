/**
 * TLS with Node's own `tls` module as the peer, on every backend: listenSSL
 * against tls.connect, connectSSL against tls.createServer, verification,
 * ALPN, SNI, client certificates, close_notify both ways, truncation,
 * garbage on a TLS port, STARTTLS, the handshake timeout and bad options.
 */
import * as crypto from 'crypto';
import * as net from 'net';
import * as tls from 'tls';
import { IPv4Address } from '../lib/address';
import { CertificateError, ConnectionDone, ConnectionLost, TLSError } from '../lib/errors';
import type { Failure } from '../lib/failure';
import type { ISSLTransport } from '../lib/interfaces';
import { Factory } from '../lib/protocol';
import { createReactor, Reactor } from '../lib/reactor';
import { CertificateOptions, optionsForClientTLS } from '../lib/tls';
import type { StreamTransport } from '../lib/transport/stream';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { closed } from './helpers/checks';
import { makeCerts, TestCerts } from './helpers/certs';
import { keeping, KeepingFactory, Recorder, recording, until } from './helpers/tcp';
import { TLSEcho, TLSRecorder } from './helpers/tls';

jest.setTimeout(20000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/** The n-th protocol (0-based) the factory builds, once built. */
async function nth<P extends Recorder>(f: KeepingFactory<P>, n: number): Promise<P> {
  await until(() => f.built.length > n, 10000, `protocol #${n}`);
  return f.built[n];
}

function sslOf(p: { transport: unknown }): ISSLTransport {
  return p.transport as ISSLTransport;
}

function tlsErrorOf(f: Failure): TLSError {
  expect(f.value).toBeInstanceOf(TLSError);
  return f.value as TLSError;
}

/** A Node tls client; resolves once connected (rejects on error). */
function nodeClient(port: number, opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: certs.ca.cert, servername: 'localhost', ...opts }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Everything a socket receives until it ends or closes. */
function collect(s: net.Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  return new Promise((resolve) => s.once('close', () => resolve(Buffer.concat(parts))));
}

forEachBackend('TLS with Node tls', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  const serverOptions = (extra: ConstructorParameters<typeof CertificateOptions>[0] = {}): CertificateOptions =>
    new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert, ...extra });

  function listen(opts: CertificateOptions, protocol: new () => TLSRecorder = TLSEcho) {
    const f = keeping(protocol);
    const port = r.listenSSL(0, f, opts, { interface: '127.0.0.1' });
    return { f, port, num: (port.getHost() as IPv4Address).port };
  }

  /** A Node tls server; resolves with it and its port. */
  async function nodeServer(opts: tls.TlsOptions, onConn: (s: tls.TLSSocket) => void): Promise<{ server: tls.Server; port: number }> {
    const server = tls.createServer({ key: certs.server.key, cert: certs.server.cert, ...opts }, onConn);
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    return { server, port: (server.address() as net.AddressInfo).port };
  }

  async function closeServer(server: net.Server): Promise<void> {
    await new Promise<void>((res) => server.close(() => res()));
  }

  for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
    it(`echoes to a Node tls client over ${version}, handshakeCompleted first`, async () => {
      const { f, port, num } = listen(serverOptions());
      const s = await nodeClient(num, { minVersion: version, maxVersion: version });
      expect(s.getProtocol()).toBe(version);
      const got = collect(s);
      s.write('hello over tls');
      const server = await nth(f, 0);
      await server.waitForBytes(14);
      expect(server.handshakes).toBe(1);
      // What the handshake settled, as the server's session recorded it.
      const session = (server.transport as StreamTransport).tls!;
      expect([session.version, session.sessionReused, session.negotiatedProtocol, sslOf(server).getPeerCertificate()]).toEqual([version, false, null, null]);
      s.end();
      expect((await got).toString()).toBe('hello over tls');
      expect((await server.lost).value).toBeInstanceOf(ConnectionDone);
      await port.stopListening();
    });
  }

  it('negotiates ALPN with a Node client (server preference order)', async () => {
    const { f, port, num } = listen(serverOptions({ acceptableProtocols: ['h2', 'http/1.1'] }));
    const s = await nodeClient(num, { ALPNProtocols: ['http/1.1', 'h2'] });
    expect(s.alpnProtocol).toBe('h2');
    const server = await nth(f, 0);
    await server.handshaken;
    expect(sslOf(server).negotiatedProtocol).toBe('h2');
    s.end();
    await closed(s);
    await port.stopListening();
  });

  it('chooses the certificate by SNI', async () => {
    const other = new CertificateOptions({ privateKey: certs.other.key, certificate: certs.other.cert });
    const { port, num } = listen(serverOptions({ hostnames: { 'other.test': other } }));
    const a = await nodeClient(num, { servername: 'other.test' });
    expect(a.getPeerCertificate().subject.CN).toBe('other.test');
    const b = await nodeClient(num, { servername: 'localhost' });
    expect(b.getPeerCertificate().subject.CN).toBe('localhost');
    a.end();
    b.end();
    await Promise.all([closed(a), closed(b)]);
    await port.stopListening();
  });

  it('requires a client certificate when asked, and shows it', async () => {
    const { f, port, num } = listen(serverOptions({ requireCertificate: true, trustRoot: certs.ca.cert }));
    const good = await nodeClient(num, { key: certs.client.key, cert: certs.client.cert });
    const server = await nth(f, 0);
    await server.handshaken;
    expect(sslOf(server).getPeerCertificate()?.subject).toBe('CN=client');
    good.end();
    await closed(good);
    // Without a certificate: the server refuses (TLS 1.3 reports it after the client's handshake).
    const bare = tls.connect({ host: '127.0.0.1', port: num, ca: certs.ca.cert, servername: 'localhost' });
    const err = await new Promise<Error>((res) => bare.once('error', res));
    expect(String((err as NodeJS.ErrnoException).code ?? err.message)).toMatch(/CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|ECONNRESET/);
    const refused = await nth(f, 1);
    expect(tlsErrorOf(await refused.lost).code).toMatch(/PEER_DID_NOT_RETURN_A_CERTIFICATE/);
    bare.destroy();
    await port.stopListening();
  });

  it('accepts a client without a certificate when verification is optional', async () => {
    const { f, port, num } = listen(serverOptions({ verify: true, trustRoot: certs.ca.cert }));
    const s = await nodeClient(num, {});
    const server = await nth(f, 0);
    await server.handshaken;
    expect(sslOf(server).getPeerCertificate()).toBeNull();
    s.end();
    await closed(s);
    await port.stopListening();
  });

  it('connectSSL verifies a Node server (chain and name); peer certificate and ALPN', async () => {
    const { server, port } = await nodeServer({ ALPNProtocols: ['h2'] }, (s) => s.pipe(s));
    const cf = recording(TLSRecorder);
    const client = new TLSRecorder();
    cf.buildProtocol = () => client;
    r.connectSSL('127.0.0.1', port, cf, optionsForClientTLS('localhost', { trustRoot: certs.ca.cert, acceptableProtocols: ['h2'] }));
    await client.made;
    client.transport!.write('early bytes'); // before the handshake: held, then sent
    await client.handshaken;
    expect(sslOf(client).negotiatedProtocol).toBe('h2');
    expect(sslOf(client).getPeerCertificate()?.subject).toBe('CN=localhost');
    await client.waitForBytes(11);
    expect(client.bytes.toString()).toBe('early bytes');
    client.transport!.loseConnection();
    expect((await client.lost).value).toBeInstanceOf(ConnectionDone);
    await closeServer(server);
  });

  // The last column: what the error's message tells the user (the name it wanted, the root it lacks).
  const refusals: [string, (c: TestCerts) => { key: string; cert: string }, string, string, string][] = [
    ['an expired certificate', (c) => c.expired, 'localhost', 'CERT_HAS_EXPIRED', 'has expired'],
    ['a self-signed certificate', (c) => c.selfSigned, 'localhost', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'does not chain to a trusted root (trustRoot)'],
    ['a certificate for another name', (c) => c.other, 'localhost', 'HOSTNAME_MISMATCH', 'is not for "localhost"'],
  ];
  for (const [what, pick, host, verifyCode, told] of refusals) {
    it(`optionsForClientTLS refuses ${what}`, async () => {
      const id = pick(certs);
      const nodeErrors: Error[] = [];
      const { server, port } = await nodeServer({ key: id.key, cert: id.cert }, (s) => s.on('error', (e) => nodeErrors.push(e)));
      server.on('tlsClientError', (e) => nodeErrors.push(e));
      const cf = recording(TLSRecorder);
      const client = new TLSRecorder();
      cf.buildProtocol = () => client;
      r.connectSSL('127.0.0.1', port, cf, optionsForClientTLS(host, { trustRoot: certs.ca.cert }));
      const err = tlsErrorOf(await client.lost);
      expect(err.code).toBe('CERTIFICATE_VERIFY_FAILED');
      expect(err.verifyCode).toBe(verifyCode);
      expect(err.message).toBe(`TLS error: CERTIFICATE_VERIFY_FAILED (${verifyCode}): the peer's certificate ${told}`);
      expect(err).toBeInstanceOf(ConnectionLost);
      expect(client.handshakes).toBe(0);
      await closeServer(server);
    });
  }

  /**
   * A listenSSL server's transport and a Node tls client, handshake done:
   * what the client receives until it closes, and its 'end' (Node's tls
   * emits it only after a close_notify; a bare FIN is an error there).
   */
  async function clientOfServer() {
    const { f, port, num } = listen(serverOptions());
    const s = await nodeClient(num, {});
    const ended = new Promise<void>((res) => s.once('end', res));
    const server = await nth(f, 0);
    await server.handshaken;
    return { port, s, server, t: server.transport as unknown as StreamTransport, got: collect(s), ended };
  }

  const idleProducer = { pauseProducing() {}, resumeProducing() {}, stopProducing() {} };

  it('a peer close_notify is ConnectionDone; our loseConnection sends one (the peer sees a clean end)', async () => {
    const { port, server, t, got, ended } = await clientOfServer();
    t.write('bye');
    t.loseConnection();
    await ended;
    expect((await got).toString()).toBe('bye');
    expect((await server.lost).value).toBeInstanceOf(ConnectionDone);
    await port.stopListening();
  });

  it('loseConnection after a write bigger than one native chunk sends all of it, then close_notify', async () => {
    const { port, s, server, t, got, ended } = await clientOfServer();
    const big = crypto.randomBytes(16 * 1024 * 1024 + 5);
    s.pause(); // the kernel buffers fill: most of `big` waits in the transport's backlog
    t.write(big);
    expect(t.bufferedAmount()).toBeGreaterThan(1024 * 1024);
    t.loseConnection();
    s.resume();
    await ended;
    expect((await got).equals(big)).toBe(true);
    expect((await server.lost).value).toBeInstanceOf(ConnectionDone);
    await port.stopListening();
  });

  it('loseConnection with a producer registered takes writes until it unregisters; close_notify follows all of them', async () => {
    const { port, s, server, t, got, ended } = await clientOfServer();
    s.pause(); // as above: most of `big` waits in the backlog
    t.registerProducer(idleProducer, true);
    t.write('before;');
    t.loseConnection();
    const big = crypto.randomBytes(16 * 1024 * 1024 + 5);
    t.write('after;');
    t.write(big);
    t.writeSequence([';seq']);
    expect(t.bufferedAmount()).toBeGreaterThan(1024 * 1024);
    t.unregisterProducer();
    s.resume();
    await ended;
    expect((await got).equals(Buffer.concat([Buffer.from('before;after;'), big, Buffer.from(';seq')]))).toBe(true);
    expect((await server.lost).value).toBeInstanceOf(ConnectionDone);
    await port.stopListening();
  });

  it('loseConnection with a producer registered and nothing buffered closes with close_notify once it unregisters', async () => {
    const { port, server, t, got, ended } = await clientOfServer();
    t.registerProducer(idleProducer, true);
    t.loseConnection();
    t.write('late');
    t.unregisterProducer();
    await ended;
    expect((await got).toString()).toBe('late');
    expect((await server.lost).value).toBeInstanceOf(ConnectionDone);
    await port.stopListening();
  });

  it('a TCP close without close_notify is truncation: TLSError, a ConnectionLost', async () => {
    const { f, port, num } = listen(serverOptions());
    // A relay between a Node tls client and us, so the TCP connection can end with a FIN and no close_notify.
    let upstream: net.Socket | null = null;
    const relay = net.createServer((down) => {
      const up = net.connect(num, '127.0.0.1');
      upstream = up;
      down.pipe(up);
      up.pipe(down);
      down.on('error', () => undefined);
      up.on('error', () => undefined);
    });
    await new Promise<void>((res) => relay.listen(0, '127.0.0.1', res));
    const s = await nodeClient((relay.address() as net.AddressInfo).port, {});
    s.on('error', () => undefined);
    s.write('partial');
    const server = await nth(f, 0);
    await server.waitForBytes(7);
    upstream!.end(); // FIN towards us, no close_notify
    const err = tlsErrorOf(await server.lost);
    expect(err.code).toBe('UNEXPECTED_EOF_WHILE_READING');
    expect(err).toBeInstanceOf(ConnectionLost);
    s.destroy();
    await closed(s);
    await closeServer(relay);
    await port.stopListening();
  });

  it('plaintext HTTP and garbage on a TLS port drop only that connection', async () => {
    const { f, port, num } = listen(serverOptions());
    const good = await nodeClient(num, {});
    const goodServer = await nth(f, 0);
    for (const junk of ['GET / HTTP/1.1\r\nHost: x\r\n\r\n', crypto.randomBytes(3000).toString('latin1')]) {
      const raw = net.connect(num, '127.0.0.1');
      raw.on('error', () => undefined);
      raw.write(Buffer.from(junk, 'latin1'));
      const bad = await nth(f, 1);
      expect(tlsErrorOf(await bad.lost).code).not.toBe('');
      await closed(raw);
    }
    const echoed = collect(good);
    good.write('still here');
    await goodServer.waitForBytes(10);
    good.end();
    expect((await echoed).toString()).toBe('still here');
    await port.stopListening();
  });

  it('an unfinished handshake times out with TLSError HANDSHAKE_TIMEOUT', async () => {
    const { f, port, num } = listen(serverOptions({ handshakeTimeout: 0.2 }));
    const raw = net.connect(num, '127.0.0.1');
    const server = await nth(f, 0);
    expect(tlsErrorOf(await server.lost).code).toBe('HANDSHAKE_TIMEOUT');
    await closed(raw);
    await port.stopListening();
  });

  it('loseWriteConnection sends close_notify and keeps reading', async () => {
    const { server, port } = await nodeServer({ allowHalfOpen: true }, (s) => {
      s.on('data', () => undefined);
      s.on('end', () => s.end('reply after your close_notify'));
    });
    const cf = recording(TLSRecorder);
    const client = new TLSRecorder();
    cf.buildProtocol = () => client;
    r.connectSSL('127.0.0.1', port, cf, optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }));
    await client.handshaken;
    client.transport!.write('request');
    (client.transport as ISSLTransport).loseWriteConnection();
    await client.waitForBytes(29);
    expect(client.bytes.toString()).toBe('reply after your close_notify');
    expect((await client.lost).value).toBeInstanceOf(ConnectionDone);
    await closeServer(server);
  });

  it('100 MB each way with a sha256 check: a paused producer, a paused reader', async () => {
    const SIZE = 100 * 1024 * 1024;
    const payload = crypto.randomBytes(SIZE);
    const want = crypto.createHash('sha256').update(payload).digest('hex');
    // Server: hashes what it receives, pausing its transport now and then;
    // sends `payload` back through a push producer the high-water mark pauses.
    class Bulk extends TLSRecorder {
      hash = crypto.createHash('sha256');
      got = 0;
      pauses = 0;
      readerPauses = 0;
      calls = 0;
      override dataReceived(data: Buffer): void {
        this.hash.update(data);
        this.got += data.length;
        if (++this.calls % 10 === 0 && this.readerPauses < 50) {
          this.readerPauses++;
          (this.transport as ISSLTransport).pauseProducing();
          setImmediate(() => (this.transport as ISSLTransport).resumeProducing());
        }
        if (this.got === SIZE) this.sendBack();
      }
      private sendBack(): void {
        const t = this.transport as ISSLTransport;
        let off = 0;
        let paused = false;
        const producer = {
          pauseProducing: () => {
            paused = true;
            this.pauses++;
          },
          resumeProducing: () => {
            paused = false;
            while (!paused && off < SIZE) {
              t.write(payload.subarray(off, off + 65536));
              off += 65536;
            }
            if (off >= SIZE) {
              t.unregisterProducer();
              t.loseConnection();
            }
          },
          stopProducing: () => undefined,
        };
        t.registerProducer(producer, true);
        producer.resumeProducing();
      }
    }
    const { f, port, num } = listen(serverOptions(), Bulk);
    const s = await nodeClient(num, {});
    const back = crypto.createHash('sha256');
    let backLen = 0;
    s.on('data', (d: Buffer) => {
      back.update(d);
      backLen += d.length;
    });
    const done = new Promise<void>((res) => s.once('end', () => res()));
    for (let off = 0; off < SIZE; off += 1 << 20) s.write(payload.subarray(off, off + (1 << 20)));
    await done;
    const server = (await nth(f, 0)) as Bulk;
    expect(server.hash.digest('hex')).toBe(want);
    expect(backLen).toBe(SIZE);
    expect(back.digest('hex')).toBe(want);
    expect(server.pauses).toBeGreaterThan(0);
    expect(server.readerPauses).toBeGreaterThan(0);
    expect((await server.lost).value).toBeInstanceOf(ConnectionDone);
    s.end();
    await closed(s);
    await port.stopListening();
  }, 120000);

  it('STARTTLS: plaintext first, then TLS on the same connection (server side)', async () => {
    class SMTPish extends TLSRecorder {
      override dataReceived(data: Buffer): void {
        super.dataReceived(data);
        const t = this.transport as ISSLTransport;
        if (t.negotiatedProtocol === null && this.handshakes === 0 && data.toString() === 'STARTTLS\r\n') {
          t.write('220 go ahead\r\n');
          t.startTLS(serverOptions());
        } else if (this.handshakes === 1) {
          t.write(Buffer.concat([Buffer.from('secure:'), data]));
        }
      }
    }
    const f = keeping(SMTPish);
    const port = r.listenTCP(0, f, { interface: '127.0.0.1' });
    const raw = net.connect((port.getHost() as IPv4Address).port, '127.0.0.1');
    raw.write('STARTTLS\r\n');
    await new Promise<void>((res) => raw.once('data', (d) => (expect(d.toString()).toBe('220 go ahead\r\n'), res())));
    const s = tls.connect({ socket: raw, ca: certs.ca.cert, servername: 'localhost' });
    await new Promise<void>((res) => s.once('secureConnect', () => res()));
    const got = collect(s);
    s.write('MAIL FROM');
    const server = await nth(f, 0);
    await server.waitForBytes(10 + 9);
    s.end();
    expect((await got).toString()).toBe('secure:MAIL FROM');
    await port.stopListening();
  });

  it('STARTTLS: client side, after a plaintext exchange', async () => {
    const server = net.createServer((sock) => {
      sock.once('data', () => {
        sock.write('OK\r\n');
        const t = new tls.TLSSocket(sock, { isServer: true, key: certs.server.key, cert: certs.server.cert });
        t.on('data', (d: Buffer) => t.end(Buffer.concat([Buffer.from('tls:'), d])));
      });
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    class Upgrader extends TLSRecorder {
      override connectionMade(): void {
        super.connectionMade();
        this.transport!.write('STARTTLS\r\n');
      }
      override dataReceived(data: Buffer): void {
        if (this.handshakes === 0 && data.toString() === 'OK\r\n') {
          const t = this.transport as ISSLTransport;
          t.startTLS(optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }));
          t.write('ping');
          return;
        }
        super.dataReceived(data);
      }
    }
    const cf = recording(Upgrader);
    const client = new Upgrader();
    cf.buildProtocol = () => client;
    r.connectTCP('127.0.0.1', (server.address() as net.AddressInfo).port, cf);
    await client.waitForBytes(8);
    expect(client.bytes.toString()).toBe('tls:ping');
    expect(client.handshakes).toBe(1);
    expect((await client.lost).value).toBeInstanceOf(ConnectionDone);
    await closeServer(server);
  });
});

describe('TLS options', () => {
  it('a key that does not match its certificate is refused when the options are built', () => {
    const build = () => new CertificateOptions({ privateKey: certs.other.key, certificate: certs.server.cert });
    expect(build).toThrow(CertificateError);
    expect(build).toThrow(expect.objectContaining({ code: 'KEY_MISMATCH' }));
  });

  it('a bad key, a bad certificate, a bad trust root and a bad cipher string are typed errors', () => {
    const bad = (init: ConstructorParameters<typeof CertificateOptions>[0], code: string) =>
      expect(() => new CertificateOptions(init)).toThrow(expect.objectContaining({ code }));
    bad({ privateKey: 'not a key', certificate: certs.server.cert }, 'BAD_PRIVATE_KEY');
    bad({ privateKey: certs.server.key, certificate: 'not a certificate' }, 'BAD_CERTIFICATE');
    bad({ privateKey: certs.server.key }, 'BAD_CERTIFICATE');
    bad({ verify: true, trustRoot: 'junk' }, 'BAD_TRUST_ROOT');
    bad({ cipherString: 'NO-SUCH-CIPHER' }, 'NO_CIPHER_MATCH');
    expect(() => optionsForClientTLS('')).toThrow(TypeError);
    expect(() => new CertificateOptions({ handshakeTimeout: -1 })).toThrow(TypeError);
    expect(() => new CertificateOptions({ acceptableProtocols: [''] })).toThrow(TypeError);
  });

  it('optionsForClientTLS defaults to the platform roots (Node tls.rootCertificates)', () => {
    expect(optionsForClientTLS('example.com').hostname).toBe('example.com');
    expect(() => optionsForClientTLS('example.com').tlsContext(true)).toThrow(TypeError);
  });

  it('a file name given for PEM text is refused with a hint; so is text that is not PEM at all', () => {
    const hint = (init: ConstructorParameters<typeof CertificateOptions>[0], code: string, message: RegExp) => {
      const build = () => new CertificateOptions(init);
      expect(build).toThrow(expect.objectContaining({ code }));
      expect(build).toThrow(message);
    };
    hint({ privateKey: 'key.pem', certificate: certs.server.cert }, 'BAD_PRIVATE_KEY', /privateKey is not PEM text; it looks like a file name: pass fs\.readFileSync\("key\.pem"\)/);
    hint({ privateKey: certs.server.key, certificate: '/etc/ssl/cert.pem' }, 'BAD_CERTIFICATE', /certificate is not PEM text; it looks like a file name/);
    hint({ verify: true, trustRoot: ['ca.crt'] }, 'BAD_TRUST_ROOT', /trustRoot is not PEM text; it looks like a file name/);
    hint({ privateKey: 'not a key', certificate: certs.server.cert }, 'BAD_PRIVATE_KEY', /privateKey is not PEM text\)$/);
  });

  it('listenSSL and a server startTLS refuse options without a certificate, and nothing listens', () => {
    const r = createReactor();
    try {
      const none = new CertificateOptions({});
      expect(() => r.listenSSL(0, new Factory(), none)).toThrow(expect.objectContaining({ code: 'NO_CERTIFICATE' }));
      expect(() => none.tlsContext(true)).toThrow(CertificateError);
      expect(r.core.liveHandlers()).toHaveLength(0);
    } finally {
      r.close();
    }
  });

  it('listenSSL refuses a client-only context factory', () => {
    const r = createReactor();
    try {
      expect(() => r.listenSSL(0, new Factory(), optionsForClientTLS('x') as never)).toThrow(TypeError);
    } finally {
      r.close();
    }
  });
});
