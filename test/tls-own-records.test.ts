/**
 * TLS 1.3 servers leave OpenSSL's record layer after the handshake
 * (native/tls_stream_tls13.cc), on every backend: the connection reports
 * recordLayer 'own' for TLS 1.3 (each of the three suites, client
 * certificates, resumption with and without a renewed ticket) and 'openssl'
 * for TLS 1.2; `openssl s_client`'s key updates (`k`, and `K` asking for
 * ours) with data both ways after each; a peer's record with one flipped
 * byte ends the connection with a typed error and an alert, nothing else.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as net from 'net';
import * as tls from 'tls';
import { ConnectionDone, TLSError } from '../lib/errors';
import type { ISSLTransport } from '../lib/interfaces';
import { loadNative, NativeLoop } from '../lib/native';
import type { Protocol } from '../lib/protocol';
import { Reactor } from '../lib/reactor';
import { CertificateOptions } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { closed } from './helpers/checks';
import { makeCerts, TestCerts } from './helpers/certs';
import { until } from './helpers/tcp';
import { listenTLSEcho } from './helpers/tls';

jest.setTimeout(30000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/** Whose record layer carries a server connection now. */
function recordLayer(p: Protocol): string {
  const t = p.transport as unknown as { native: NativeLoop; slot: number; gen: number };
  const info = t.native.tlsInfo(t.slot, t.gen);
  return typeof info === 'number' ? `error ${info}` : info.recordLayer;
}

/** A Node tls client; resolves once connected. */
function nodeClient(port: number, opts: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca: certs.ca.cert, servername: 'localhost', ...opts }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Writes `text` and resolves with what came back once it is all there. */
async function roundTrip(s: tls.TLSSocket, text: string): Promise<string> {
  let got = '';
  const onData = (d: Buffer): void => {
    got += d.toString();
  };
  s.on('data', onData);
  s.write(text);
  await until(() => got.length >= text.length, 10000, `the echo of ${text}`);
  s.off('data', onData);
  return got;
}

forEachBackend('TLS 1.3 on our own record layer', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  const listen = (extra: ConstructorParameters<typeof CertificateOptions>[0] = {}) => listenTLSEcho(r, certs.server, extra);

  async function echoOnce(num: number, opts: tls.ConnectionOptions, f: ReturnType<typeof listen>['f'], n: number) {
    const s = await nodeClient(num, opts);
    let session: Buffer | undefined;
    s.on('session', (b: Buffer) => (session = b));
    expect(await roundTrip(s, `hello ${n}`)).toBe(`hello ${n}`);
    await until(() => f.built.length > n, 10000, 'the server protocol');
    const server = f.built[n];
    await server.handshaken;
    const layer = recordLayer(server);
    s.end();
    await closed(s);
    expect((await server.lost).value).toBeInstanceOf(ConnectionDone);
    return { layer, server, session };
  }

  for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']) {
    it(`${suite}: the server leaves OpenSSL after the handshake`, async () => {
      const { f, port, num } = listen();
      const { layer } = await echoOnce(num, { ciphersuites: suite, minVersion: 'TLSv1.3' } as tls.ConnectionOptions, f, 0);
      expect(layer).toBe('own');
      await port.stopListening();
    });
  }

  for (const suite of ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384']) {
    it(`${suite}: records on both sides of the direct AES-GCM path's bound (256 bytes, native/tls13_gcm.h) echo intact`, async () => {
      const { f, port, num } = listen();
      const s = await nodeClient(num, { ciphersuites: suite, minVersion: 'TLSv1.3' } as tls.ConnectionOptions);
      for (const size of [1, 200, 254, 255, 256, 257, 288, 1000, 16384, 40000]) {
        const text = Array.from({ length: size }, (_, i) => String.fromCharCode(33 + ((i * 7 + size) % 90))).join('');
        expect(await roundTrip(s, text)).toBe(text);
      }
      expect(recordLayer(f.built[0])).toBe('own');
      s.end();
      await closed(s);
      expect((await f.built[0].lost).value).toBeInstanceOf(ConnectionDone);
      await port.stopListening();
    });
  }

  it('TLS 1.2 stays on OpenSSL', async () => {
    const { f, port, num } = listen();
    const { layer } = await echoOnce(num, { maxVersion: 'TLSv1.2' }, f, 0);
    expect(layer).toBe('openssl');
    await port.stopListening();
  });

  it('a client certificate is still reported after the switch', async () => {
    const { f, port, num } = listen({ requireCertificate: true, trustRoot: certs.ca.cert });
    const { layer, server } = await echoOnce(num, { key: certs.client.key, cert: certs.client.cert }, f, 0);
    expect(layer).toBe('own');
    expect((server.transport as ISSLTransport).getPeerCertificate()?.subject).toBe('CN=client');
    await port.stopListening();
  });

  for (const renewSessionTickets of [true, false]) {
    it(`resumed handshakes switch too (renewSessionTickets: ${renewSessionTickets})`, async () => {
      const { f, port, num } = listen({ renewSessionTickets });
      const first = await echoOnce(num, {}, f, 0);
      expect(first.session).toBeDefined(); // the tickets came before the echo
      const second = await echoOnce(num, { session: first.session }, f, 1);
      expect((second.server.transport as ISSLTransport).isSessionReused()).toBe(true);
      expect([first.layer, second.layer]).toEqual(['own', 'own']);
      await port.stopListening();
    });
  }

  it('openssl s_client key updates (k, and K asking for ours): data both ways after each', async () => {
    const { f, port, num } = listen();
    const child: ChildProcess = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${num}`, '-tls1_3', '-CAfile', 'ca.pem', '-servername', 'localhost'], {
      cwd: certs.dir,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number | null>((res) => child.once('close', res));
    try {
      const line = async (text: string): Promise<void> => {
        child.stdin!.write(`${text}\n`);
        await until(() => out.includes(`${text}\n`) && f.built.length > 0 && f.built[0].bytes.toString().includes(text), 10000, `the echo of ${text}`);
      };
      const command = async (c: string, count: number): Promise<void> => {
        child.stdin!.write(`${c}\n`);
        await until(() => (err.match(/KEYUPDATE/g) ?? []).length === count, 10000, `s_client's KEYUPDATE ${count}`);
      };
      await line('before any update');
      await command('k', 1);
      await line('after k');
      await command('K', 2);
      await line('after K');
      await command('K', 3);
      await line('after a second K');
      expect(recordLayer(f.built[0])).toBe('own');
      child.stdin!.end(); // s_client sends close_notify and exits
      expect((await f.built[0].lost).value).toBeInstanceOf(ConnectionDone);
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    await port.stopListening();
  });

  it('a record with one flipped byte: the server fails with a typed TLSError and the client gets the alert', async () => {
    const { f, port, num } = listen();
    // Forwards a Node client's bytes, flipping one byte of its second
    // encrypted record (the first is its Finished): its first application data.
    let encrypted = 0;
    let pending = Buffer.alloc(0);
    const sockets: net.Socket[] = [];
    const relay = net.createServer((down) => {
      const up = net.connect(num, '127.0.0.1');
      sockets.push(down, up);
      up.pipe(down);
      down.on('data', (d: Buffer) => {
        pending = Buffer.concat([pending, d]);
        while (pending.length >= 5 && pending.length >= 5 + pending.readUInt16BE(3)) {
          const rec = Buffer.from(pending.subarray(0, 5 + pending.readUInt16BE(3)));
          pending = pending.subarray(rec.length);
          if (rec[0] === 23 && ++encrypted === 2) rec[rec.length - 1] ^= 0x01;
          up.write(rec);
        }
      });
      for (const s of [up, down]) s.on('error', () => undefined);
      down.on('close', () => up.destroy());
      up.on('close', () => down.destroy());
    });
    await new Promise<void>((res) => relay.listen(0, '127.0.0.1', res));
    const s = await nodeClient((relay.address() as net.AddressInfo).port, {});
    const clientError = new Promise<Error>((res) => s.once('error', res));
    s.write('this record is tampered with');
    await until(() => f.built.length > 0, 10000, 'the server protocol');
    const failure = await f.built[0].lost;
    expect(failure.value).toBeInstanceOf(TLSError);
    expect((failure.value as TLSError).code).toBe('DECRYPTION_FAILED_OR_BAD_RECORD_MAC');
    expect(f.built[0].bytes.length).toBe(0);
    const e = (await clientError) as NodeJS.ErrnoException;
    expect(String(e.code ?? e.message)).toMatch(/BAD_RECORD_MAC|ECONNRESET/);
    s.destroy();
    await closed(s);
    for (const x of sockets) x.destroy();
    await Promise.all(sockets.map((x) => closed(x)));
    await new Promise((res) => relay.close(res));
    await port.stopListening();
  });
});

describe('the direct AES-GCM path for small records (native/tls13_gcm.h)', () => {
  // Where it applies: x86-64 with AES-NI and PCLMULQDQ, and a Node that links
  // OpenSSL statically (its aesni_* functions exported); elsewhere every record
  // goes through the provider and the echo tests above cover that path.
  const cpu = process.platform === 'linux' ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  const applies =
    process.arch === 'x64' && /\baes\b/.test(cpu) && /\bpclmulqdq\b/.test(cpu) && process.config.variables.node_shared_openssl !== true;
  const directIn = (env: NodeJS.ProcessEnv): string => {
    const script = "process.stdout.write(String(require('./lib/native').loadNative().tlsDirectGcm()))";
    const r = spawnSync(process.execPath, ['-r', path.join(__dirname, 'helpers', 'ts-register.js'), '-e', script], {
      cwd: path.join(__dirname, '..'),
      env,
      encoding: 'utf8',
      timeout: 20000,
    });
    if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
    return r.stdout;
  };

  (applies ? it : it.skip)('is taken here: the functions were found and their known-answer record matched EVP', () => {
    expect(loadNative().tlsDirectGcm()).toBe(true);
  });

  (applies ? it : it.skip)('is not taken when OPENSSL_ia32cap masks CPU features (a mask it would not honour)', () => {
    expect(directIn({ ...process.env, OPENSSL_ia32cap: '~0x200000000000000' })).toBe('false');
    expect(directIn({ ...process.env, OPENSSL_ia32cap: undefined })).toBe('true');
  });
});
