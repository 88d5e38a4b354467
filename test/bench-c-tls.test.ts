/**
 * The harness's C TLS ceiling (bench/cserver/c-tls.c) against a real peer,
 * Python's ssl module (OpenSSL underneath): it builds, completes a full
 * handshake and then a resumed one on the ticket it gave, echoes in each,
 * and answers the peer's close_notify with its own (Python's unwrap()
 * fails on a bare FIN, once OP_IGNORE_UNEXPECTED_EOF is off). The tickets it sends per handshake are counted by
 * the load generator in bench.test.ts's tiny TLS run.
 */
import { execFile, spawn, spawnSync } from 'child_process';
import * as path from 'path';

const ROOT = path.resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { ensureBuilt } = require('../bench/lib/build') as { ensureBuilt: () => { cTls: string } };
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { ensureCert } = require('../bench/lib/tls-cert') as { ensureCert: () => { key: string; cert: string } };

/** Two connections, the second offering the first's session: what each saw. */
const PY_CLIENT = `
import json, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF  # Debian's default: a bare FIN must fail unwrap()
out, session = [], None
for i in range(2):
    raw = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
    s = ctx.wrap_socket(raw, session=session)
    s.sendall(b'hello %d' % i)
    r = {'echo': s.recv(100).decode(), 'reused': s.session_reused, 'version': s.version(), 'cipher': s.cipher()[0]}
    session = s.session
    try:
        s.unwrap()
        r['close_notify'] = True
    except (ssl.SSLError, OSError) as e:
        r['close_notify'] = str(e)
    raw.close()
    out.append(r)
print(json.dumps(out))
`;

const linuxPython = process.platform === 'linux' && spawnSync('/usr/bin/python3', ['-c', 'import ssl']).status === 0;

/** The Python client against `port`: its exit code, stdout and stderr. */
function pyClient(port: number): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile('/usr/bin/python3', ['-c', PY_CLIENT, String(port)], { timeout: 20000 }, (e, out, err) => {
      resolve({ code: e ? Number((e as NodeJS.ErrnoException).code ?? 1) : 0, out, err });
    });
  });
}

(linuxPython ? describe : describe.skip)('the C TLS ceiling (c-tls)', () => {
  test('builds, does a full then a resumed TLS 1.3 handshake, echoes, answers close_notify, exits at stdin EOF', async () => {
    const { cTls } = ensureBuilt();
    const { cert, key } = ensureCert();
    const server = spawn(cTls, [cert, key], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    const kill = setTimeout(() => server.kill('SIGKILL'), 25000);
    try {
      const port = await new Promise<number>((resolve, reject) => {
        server.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().split('\n')[0])));
        server.once('exit', (code) => reject(new Error(`c-tls exited ${code} before listening`)));
      });
      expect(port).toBeGreaterThan(0);
      const py = await pyClient(port);
      expect([py.code, py.err]).toEqual([0, '']);
      const seen = { version: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', close_notify: true };
      expect(JSON.parse(py.out)).toEqual([
        { echo: 'hello 0', reused: false, ...seen },
        { echo: 'hello 1', reused: true, ...seen },
      ]);
    } finally {
      server.stdin.end();
      expect(await exited).toBe(0);
      clearTimeout(kill);
    }
  }, 30000);
});
