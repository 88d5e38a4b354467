/**
 * TLS against peers nobody here wrote, on every backend: Debian's
 * `openssl s_client` and `openssl s_server`, and Python's `ssl` module, as
 * clients of listenSSL and servers for connectSSL. TLS 1.2 and 1.3, ALPN,
 * SNI, client certificates, verification, close_notify at the end.
 */
import { ChildProcess, spawn } from 'child_process';
import { IPv4Address } from '../lib/address';
import { ConnectionDone } from '../lib/errors';
import type { ISSLTransport } from '../lib/interfaces';
import { Reactor } from '../lib/reactor';
import { CertificateOptions, optionsForClientTLS } from '../lib/tls';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { keeping, recording, until } from './helpers/tcp';
import { TLSRecorder } from './helpers/tls';

jest.setTimeout(30000);

let certs: TestCerts;
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => certs.cleanup());

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (with input on stdin); killed after 15 s. */
function run(cmd: string, args: string[], input: string, keepStdinOpen = false): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(cmd, args, { cwd: certs.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin!.write(input);
  if (!keepStdinOpen) child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
  const done = new Promise<Run>((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done };
}

/** Echoes one line back, then closes (close_notify); records handshakes. */
class LineEcho extends TLSRecorder {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    if (this.bytes.includes(0x0a)) {
      this.transport!.write(this.bytes);
      this.transport!.loseConnection();
    }
  }
}

/** Sends a line once connected, records the reply. */
class LineClient extends TLSRecorder {
  override connectionMade(): void {
    super.connectionMade();
    this.transport!.write('hello peer\n');
  }
}

/** Starts `openssl s_server -rev` (reverses each line) and resolves with its port. */
async function sServer(extra: string[]): Promise<{ port: number; proc: ReturnType<typeof run> }> {
  const proc = run('openssl', ['s_server', '-accept', '127.0.0.1:0', '-cert', 'server.pem', '-key', 'server.key', '-rev', '-naccept', '1', ...extra], '', true);
  let out = '';
  proc.child.stdout!.on('data', (d: string) => (out += d));
  await until(() => /ACCEPT 127\.0\.0\.1:\d+/.test(out), 10000, 's_server to listen');
  return { port: Number(/ACCEPT 127\.0\.0\.1:(\d+)/.exec(out)![1]), proc };
}

const PY_CLIENT = `
import socket, ssl, sys
port, version, alpn, servername = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile='ca.pem')
ctx.minimum_version = ctx.maximum_version = getattr(ssl.TLSVersion, version)
if alpn: ctx.set_alpn_protocols([alpn])
with socket.create_connection(('127.0.0.1', port)) as raw:
    with ctx.wrap_socket(raw, server_hostname=servername) as s:
        s.sendall(b'from python\\n')
        data = b''
        while True:
            chunk = s.recv(65536)
            if not chunk: break   # a clean close_notify (truncation would raise)
            data += chunk
        print(s.version(), s.selected_alpn_protocol(), s.getpeercert()['subject'][0][0][1], data.decode().strip())
`;

const PY_SERVER = `
import socket, ssl, sys
ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
ctx.load_cert_chain('server.pem', 'server.key')
ctx.set_alpn_protocols(['h2'])
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(1)
print(srv.getsockname()[1], flush=True)
conn, _ = srv.accept()
with ctx.wrap_socket(conn, server_side=True) as s:
    line = b''
    while not line.endswith(b'\\n'):
        line += s.recv(1024)
    s.sendall(b'python says ' + line)
    try:
        s.recv(1024)   # our close_notify: recv returns b''
        s.unwrap()
        print('clean', s.selected_alpn_protocol() if hasattr(s, 'selected_alpn_protocol') else '', flush=True)
    except Exception as e:
        print('unclean', e, flush=True)
`;

forEachBackend('TLS with openssl(1) and Python peers', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);

  const serverOptions = (extra: ConstructorParameters<typeof CertificateOptions>[0] = {}): CertificateOptions =>
    new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert, ...extra });

  function listen(opts: CertificateOptions) {
    const f = keeping(LineEcho);
    const port = r.listenSSL(0, f, opts, { interface: '127.0.0.1' });
    return { f, port, num: (port.getHost() as IPv4Address).port };
  }

  for (const [flag, version] of [['-tls1_2', 'TLSv1.2'], ['-tls1_3', 'TLSv1.3']] as const) {
    it(`openssl s_client (${version}, ALPN, verified) against listenSSL`, async () => {
      const { f, port, num } = listen(serverOptions({ acceptableProtocols: ['h2', 'http/1.1'] }));
      const res = await run('openssl', ['s_client', '-connect', `127.0.0.1:${num}`, '-brief', '-ign_eof', flag, '-alpn', 'http/1.1',
        '-CAfile', 'ca.pem', '-verify_return_error', '-servername', 'localhost'], 'hello s_client\n').done;
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('hello s_client');
      expect(res.stderr).toContain(`Protocol version: ${version}`);
      expect(res.stderr).toContain('Verification: OK');
      const server = f.built[0];
      expect(server.handshakes).toBe(1);
      expect((server.transport as ISSLTransport).negotiatedProtocol).toBe('http/1.1');
      expect((await server.lost).value).toBeInstanceOf(ConnectionDone);
      await port.stopListening();
    });
  }

  it('openssl s_client: SNI picks the certificate; a client certificate is seen by the server', async () => {
    // Each SNI entry is a whole configuration: the client-certificate rule comes with the chosen one.
    const mtls = { requireCertificate: true, trustRoot: certs.ca.cert };
    const other = new CertificateOptions({ privateKey: certs.other.key, certificate: certs.other.cert, ...mtls });
    const { f, port, num } = listen(serverOptions({ hostnames: { 'other.test': other } }));
    const res = await run('openssl', ['s_client', '-connect', `127.0.0.1:${num}`, '-brief', '-ign_eof', '-servername', 'other.test',
      '-cert', 'client.pem', '-key', 'client.key', '-CAfile', 'ca.pem'], 'sni\n').done;
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('Peer certificate: CN = other.test');
    const server = f.built[0];
    expect((server.transport as ISSLTransport).getPeerCertificate()?.subject).toBe('CN=client');
    await server.lost;
    await port.stopListening();
  });

  for (const extra of [[], ['-tls1_2']]) {
    it(`connectSSL to openssl s_server ${extra.join(' ') || '(TLS 1.3)'} with a client certificate it requires`, async () => {
      const { port, proc } = await sServer(['-Verify', '1', '-CAfile', 'ca.pem', ...extra]);
      const cf = recording(LineClient);
      const client = new LineClient();
      cf.buildProtocol = () => client;
      const opts = optionsForClientTLS('localhost', {
        trustRoot: certs.ca.cert,
        clientCertificate: { privateKey: certs.client.key, certificate: certs.client.cert },
      });
      r.connectSSL('127.0.0.1', port, cf, opts);
      await client.handshaken;
      await client.waitForBytes(11);
      expect(client.bytes.toString()).toBe('reep olleh\n'); // s_server -rev reverses each line
      client.transport!.loseConnection();
      expect((await client.lost).value).toBeInstanceOf(ConnectionDone);
      proc.child.kill();
      await proc.done;
    });
  }

  for (const version of ['TLSv1_2', 'TLSv1_3']) {
    it(`Python ssl client (${version}) against listenSSL: ALPN, verification, a clean close`, async () => {
      const { f, port, num } = listen(serverOptions({ acceptableProtocols: ['h2'] }));
      const res = await run('python3', ['-c', PY_CLIENT, String(num), version, 'h2', 'localhost'], '').done;
      expect(res.stderr).toBe('');
      expect(res.code).toBe(0);
      expect(res.stdout.trim()).toBe(`${version.replace('_', '.')} h2 localhost from python`);
      expect((await f.built[0].lost).value).toBeInstanceOf(ConnectionDone);
      await port.stopListening();
    });
  }

  it('connectSSL to a Python ssl server: ALPN, then our close_notify ends it cleanly', async () => {
    const py = run('python3', ['-c', PY_SERVER], '', true);
    let out = '';
    py.child.stdout!.on('data', (d: string) => (out += d));
    await until(() => /^\d+\n/.test(out), 10000, 'python server');
    const port = Number(out.split('\n')[0]);
    const cf = recording(LineClient);
    const client = new LineClient();
    cf.buildProtocol = () => client;
    r.connectSSL('127.0.0.1', port, cf, optionsForClientTLS('localhost', { trustRoot: certs.ca.cert, acceptableProtocols: ['h2'] }));
    await client.handshaken;
    expect((client.transport as ISSLTransport).negotiatedProtocol).toBe('h2');
    await client.waitForBytes(23);
    expect(client.bytes.toString()).toBe('python says hello peer\n');
    client.transport!.loseConnection();
    await client.lost;
    const res = await py.done;
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/\nclean/);
  });
});
