/**
 * A real HAProxy (Debian's haproxy, /usr/sbin/haproxy) in TCP mode in front
 * of an ioreactor server on a `haproxy:` endpoint, every backend: one
 * frontend sends PROXY v1 (send-proxy), one v2 (send-proxy-v2). The server
 * tells each client the address it sees; it must be the client's own
 * (127.0.0.1 and the client socket's local port), not HAProxy's. A third
 * frontend passes TLS through untouched (TCP mode) to a `haproxy:ssl:`
 * server, which reads the v2 header in the clear, then terminates TLS.
 */
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as tls from 'tls';
import type { IPv4Address } from '../lib/address';
import { serverFromString } from '../lib/endpoints';
import type { IListeningPort } from '../lib/interfaces';
import { Factory, Protocol } from '../lib/protocol';
import { createReactor, Reactor } from '../lib/reactor';
import { forEachBackend } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { openFdCount } from './helpers/fds';

jest.setTimeout(30000);

const HAPROXY = '/usr/sbin/haproxy';

/** Greets with the peer and host it sees, then echoes. */
class WhoAmI extends Protocol {
  override connectionMade(): void {
    const p = this.transport.getPeer() as IPv4Address;
    const h = this.transport.getHost() as IPv4Address;
    this.transport.write(`${p.host} ${p.port} ${h.host} ${h.port}\n`);
  }

  override dataReceived(data: Buffer): void {
    this.transport.write(data);
  }
}

/** A port the OS says is free now (HAProxy needs a fixed one: a tiny race, accepted). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((res) => s.close(() => res()));
  return port;
}

function config(server: number, v1: number, v2: number, tlsServer: number, tlsFront: number): string {
  return [
    'global',
    '  maxconn 256',
    'defaults',
    '  mode tcp',
    '  timeout connect 5s',
    '  timeout client 30s',
    '  timeout server 30s',
    `frontend v1`,
    `  bind 127.0.0.1:${v1}`,
    '  default_backend v1',
    'backend v1',
    `  server app 127.0.0.1:${server} send-proxy`,
    `frontend v2`,
    `  bind 127.0.0.1:${v2}`,
    '  default_backend v2',
    'backend v2',
    `  server app 127.0.0.1:${server} send-proxy-v2`,
    `frontend tls`,
    `  bind 127.0.0.1:${tlsFront}`,
    '  default_backend tls',
    'backend tls',
    `  server app 127.0.0.1:${tlsServer} send-proxy-v2`,
    '',
  ].join('\n');
}

/** Resolves once something accepts connections on `port` (polled by connecting, no fixed sleep). */
async function listening(port: number, child: ChildProcess, deadline = Date.now() + 10000): Promise<void> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`haproxy exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((res) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), res(true)));
      s.on('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`haproxy did not listen on ${port}`);
    await new Promise((res) => setTimeout(res, 20));
  }
}

/** Connects through HAProxy (over TLS when `ca` is given); resolves with the greeting line, the echo of `text`, and the client's own port. */
function through(port: number, text: string, ca?: string): Promise<{ greeting: string; echo: string; local: number }> {
  return new Promise((resolve, reject) => {
    let got = '';
    const s = ca === undefined ? net.connect(port, '127.0.0.1') : tls.connect({ port, host: '127.0.0.1', ca, servername: 'localhost' });
    s.setEncoding('utf8');
    s.on(ca === undefined ? 'connect' : 'secureConnect', () => s.write(text));
    s.on('data', (d: string) => {
      got += d;
      const nl = got.indexOf('\n');
      if (nl >= 0 && got.length >= nl + 1 + text.length) {
        resolve({ greeting: got.slice(0, nl), echo: got.slice(nl + 1), local: s.localPort ?? 0 });
        s.destroy();
      }
    });
    s.on('error', reject);
  });
}

forEachBackend('behind a real HAProxy', (backend) => {
  let r: Reactor;
  let port: IListeningPort;
  let haproxy: ChildProcess;
  let dir: string;
  let v1: number;
  let v2: number;
  let tlsFront: number;
  let tlsPort: IListeningPort;
  let certs: TestCerts;
  let fdsBefore: number;

  beforeAll(async () => {
    if (!fs.existsSync(HAPROXY)) throw new Error(`${HAPROXY} is missing: install Debian's haproxy (.ci/run does)`);
    r = createReactor({ backend });
    r.backend;
    fdsBefore = openFdCount();
    port = await serverFromString(r, 'haproxy:tcp:0:interface=127.0.0.1').listen(Factory.forProtocol(WhoAmI));
    const server = (port.getHost() as IPv4Address).port;
    certs = makeCerts();
    const ssl = `haproxy:ssl:0:interface=127.0.0.1:privateKey=${certs.server.keyPath}:certKey=${certs.server.certPath}`;
    tlsPort = await serverFromString(r, ssl).listen(Factory.forProtocol(WhoAmI));
    const tlsServer = (tlsPort.getHost() as IPv4Address).port;
    [v1, v2, tlsFront] = [await freePort(), await freePort(), await freePort()];
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-haproxy-'));
    const cfg = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(cfg, config(server, v1, v2, tlsServer, tlsFront));
    haproxy = spawn(HAPROXY, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
    haproxy.stderr!.resume();
    await listening(v1, haproxy);
    await listening(v2, haproxy);
    await listening(tlsFront, haproxy);
  });

  afterAll(async () => {
    if (haproxy !== undefined && haproxy.exitCode === null) {
      const gone = new Promise((res) => haproxy.once('exit', res));
      haproxy.kill('SIGKILL');
      await gone;
    }
    await port?.stopListening();
    await tlsPort?.stopListening();
    certs?.cleanup();
    r.disconnectAll();
    await new Promise((res) => setImmediate(res));
    expect(openFdCount()).toBeLessThanOrEqual(fdsBefore);
    r.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    ['send-proxy (v1)', () => v1],
    ['send-proxy-v2', () => v2],
  ])('%s: the server sees the client, not HAProxy', async (_name, front) => {
    const results = await Promise.all([1, 2, 3].map((i) => through(front(), `hello ${i}`)));
    for (const [i, { greeting, echo, local }] of results.entries()) {
      expect(greeting).toBe(`127.0.0.1 ${local} 127.0.0.1 ${front()}`);
      expect(echo).toBe(`hello ${i + 1}`);
    }
  });

  it('TLS passed through in TCP mode to haproxy:ssl: (v2 header in the clear, then TLS)', async () => {
    const results = await Promise.all([1, 2].map((i) => through(tlsFront, `secret ${i}`, certs.ca.cert)));
    for (const [i, { greeting, echo, local }] of results.entries()) {
      expect(greeting).toBe(`127.0.0.1 ${local} 127.0.0.1 ${tlsFront}`);
      expect(echo).toBe(`secret ${i + 1}`);
    }
  });
});
