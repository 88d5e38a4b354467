/**
 * Client session reuse on every backend: connectSSL twice to the same server
 * with the same client options; the second connection offers the session
 * (a TLS 1.3 ticket, or a TLS 1.2 ticket) the first received and resumes.
 * The servers are Node's tls and `openssl s_server`, which count resumptions
 * themselves, and ioreactor's own listenSSL. Other options, or another
 * server name, do not offer that session.
 */
import { spawn } from 'child_process';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import type { ISSLTransport } from '../lib/interfaces';
import { Factory } from '../lib/protocol';
import { Reactor } from '../lib/reactor';
import { CertificateOptions, ClientTLSOptions, optionsForClientTLS } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { Echo, recording, until } from './helpers/tcp';
import { TLSRecorder } from './helpers/tls';

jest.setTimeout(30000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

/** Sends a line once the handshake is done; closes once the reply came (the ticket came before it). */
class Visitor extends TLSRecorder {
  reused: boolean | null = null;

  override handshakeCompleted(): void {
    super.handshakeCompleted();
    this.reused = (this.transport as ISSLTransport).isSessionReused();
    this.transport!.write('ping\n');
  }

  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    if (this.bytes.includes(0x0a)) this.transport!.loseConnection();
  }
}

/** As Visitor, but ends with a TCP close and no close_notify. */
class AbortingVisitor extends Visitor {
  override dataReceived(data: Buffer): void {
    if (data.includes(0x0a)) this.transport!.abortConnection();
    else super.dataReceived(data);
  }
}

const VERSIONS = [
  ['TLSv1.2', '-tls1_2'],
  ['TLSv1.3', '-tls1_3'],
] as const;

forEachBackend('TLS client session reuse', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  /** One connectSSL visit: whether the client says it resumed. */
  async function visit(port: number, opts: ClientTLSOptions, protocol: new () => Visitor = Visitor): Promise<boolean> {
    const cf = recording(protocol);
    let p: Visitor | null = null;
    const build = cf.buildProtocol.bind(cf);
    cf.buildProtocol = (addr) => (p = build(addr));
    r.connectSSL('127.0.0.1', port, cf, opts);
    await until(() => cf.losses.length + cf.failures.length > 0, 10000, 'the visit to end');
    expect(cf.failures).toEqual([]);
    expect(p!.handshakes).toBe(1);
    return p!.reused!;
  }

  const client = (name = 'localhost'): ClientTLSOptions => optionsForClientTLS(name, { trustRoot: certs.ca.cert });

  for (const [version] of VERSIONS) {
    it(`resumes with Node's tls server (${version}), which counts it`, async () => {
      const reusedOnServer: boolean[] = [];
      const server = tls.createServer({ key: certs.server.key, cert: certs.server.cert, maxVersion: version }, (s) => {
        reusedOnServer.push(s.isSessionReused());
        s.pipe(s);
      });
      await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
      const port = (server.address() as { port: number }).port;
      try {
        const opts = client();
        expect(await visit(port, opts)).toBe(false);
        expect(await visit(port, opts)).toBe(true);
        expect(await visit(port, client())).toBe(false); // other options: their own sessions
        expect(reusedOnServer).toEqual([false, true, false]);
      } finally {
        await new Promise((res) => server.close(res));
      }
    });

    it(`resumes with openssl s_server (${version}), which counts it`, async () => {
      const flag = VERSIONS.find(([v]) => v === version)![1];
      const child = spawn('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', 'server.pem', '-key', 'server.key', '-rev', '-naccept', '2', flag],
        { cwd: certs.dir, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr!.resume();
      const exited = new Promise<number | null>((res) => child.once('close', res));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      try {
        await until(() => /ACCEPT 127\.0\.0\.1:\d+/.test(out), 10000, 's_server to listen');
        const port = Number(/ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)![1]);
        const opts = client();
        expect(await visit(port, opts)).toBe(false);
        expect(await visit(port, opts)).toBe(true);
        expect(await exited).toBe(0);
        // s_server's own count, printed when it ends after -naccept 2.
        expect(out).toMatch(/\b1 session cache hits/);
      } finally {
        clearTimeout(timer);
        child.kill('SIGKILL');
      }
    });
  }

  it('resumes with listenSSL; the server side sees it too; another name does not offer the session', async () => {
    const servers: ISSLTransport[] = [];
    const f = Factory.forProtocol(
      class extends Echo {
        handshakeCompleted(): void {
          servers.push(this.transport as ISSLTransport);
        }
      },
    );
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (r.listenSSL(0, f, opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const mine = client();
    expect(await visit(port, mine)).toBe(false);
    expect(await visit(port, mine)).toBe(true);
    expect(await visit(port, mine)).toBe(true);
    expect(servers.map((t) => t.isSessionReused())).toEqual([false, true, true]);
    // The certificate is for localhost and 127.0.0.1: the session saved for one name is not offered for the other.
    expect(await visit(port, client('127.0.0.1'))).toBe(false);
  });

  it('a connection that ended without close_notify keeps its session (TLS 1.1 and later allow it)', async () => {
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (r.listenSSL(0, Factory.forProtocol(Echo), opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const mine = client();
    expect(await visit(port, mine, AbortingVisitor)).toBe(false);
    expect(await visit(port, mine, AbortingVisitor)).toBe(true);
    expect(await visit(port, mine)).toBe(true);
  });

  it('a session is not offered to another port of the same host', async () => {
    const opts = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const listen = (): number => (r.listenSSL(0, Factory.forProtocol(Echo), opts, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const a = listen();
    const b = listen();
    const mine = client();
    expect(await visit(a, mine)).toBe(false);
    expect(await visit(b, mine)).toBe(false); // same server context, but another address: a full handshake
    expect(await visit(a, mine)).toBe(true);
  });
});
