/**
 * A Site answering real clients nobody here wrote, on every backend: curl
 * (keep-alive, chunked upload, Expect: 100-continue), Node's fetch and http
 * client, and Python's http.client.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { Request, Resource, Site } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { openFdCount } from './helpers/fds';
import { until } from './helpers/tcp';

jest.setTimeout(20000);

/** GET: the path; POST: a digest of the body (length and first/last bytes). */
class Answer extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    return `path=${request.path}\n`;
  }
  render_POST(request: Request): string {
    const c = request.content;
    return `len=${c.length} expect=${request.getHeader('expect') ?? '-'} te=${request.getHeader('transfer-encoding') ?? '-'} sum=${c.reduce((a, b) => (a + b) % 65521, 0)}\n`;
  }
}

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve({ stdout, stderr })));
  });
}

const BODY = Buffer.alloc(200 * 1024, 0).map((_v, i) => (i * 7) % 251);
const SUM = BODY.reduce((a, b) => (a + b) % 65521, 0);

forEachBackend('web: real clients', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let connections: number;
  let file: string;

  beforeAll(() => {
    file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-web-')), 'body.bin');
    fs.writeFileSync(file, BODY);
  });
  afterAll(() => fs.rmSync(path.dirname(file), { recursive: true, force: true }));

  function serve(): number {
    const site = new Site(new Answer(), { reactor: r });
    connections = 0;
    const build = site.buildProtocol.bind(site);
    site.buildProtocol = (addr) => {
      connections++;
      return build(addr);
    };
    return (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  }

  it('curl: two requests on one kept-alive connection', async () => {
    const port = serve();
    const { stdout } = await run('/usr/bin/curl', ['-sS', `http://127.0.0.1:${port}/a`, `http://127.0.0.1:${port}/b`]);
    expect(stdout).toBe('path=/a\npath=/b\n');
    expect(connections).toBe(1);
  });

  it('curl: a chunked upload', async () => {
    const port = serve();
    const { stdout } = await run('/usr/bin/curl', ['-sS', '-H', 'Transfer-Encoding: chunked', '--data-binary', `@${file}`, `http://127.0.0.1:${port}/up`]);
    expect(stdout).toBe(`len=${BODY.length} expect=- te=chunked sum=${SUM}\n`);
  });

  it('curl: Expect: 100-continue gets its 100 and the body goes through', async () => {
    const port = serve();
    const { stdout, stderr } = await run('/usr/bin/curl', ['-sS', '-v', '-H', 'Expect: 100-continue', '--data-binary', `@${file}`, `http://127.0.0.1:${port}/up`]);
    expect(stderr).toContain('< HTTP/1.1 100 Continue');
    expect(stdout).toBe(`len=${BODY.length} expect=100-continue te=- sum=${SUM}\n`);
  });

  it('curl: HTTP/1.0 and HEAD', async () => {
    const port = serve();
    const { stdout } = await run('/usr/bin/curl', ['-sS', '-0', '-I', `http://127.0.0.1:${port}/h`]);
    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(stdout).toContain('Content-Length: 8\r\n');
  });

  it("Node's fetch: GET and POST, reusing a kept-alive connection", async () => {
    const fds = openFdCount();
    const port = serve();
    const a = await fetch(`http://127.0.0.1:${port}/x`);
    expect(await a.text()).toBe('path=/x\n');
    const b = await fetch(`http://127.0.0.1:${port}/y`, { method: 'POST', body: BODY });
    expect(await b.text()).toBe(`len=${BODY.length} expect=- te=- sum=${SUM}\n`);
    expect(b.headers.get('content-type')).toBe('text/html');
    const c = await fetch(`http://127.0.0.1:${port}/z`);
    expect(await c.text()).toBe('path=/z\n');
    // fetch (undici) opens a second connection for its second request whatever the server (node:http too); the third reuses one.
    expect(connections).toBeLessThan(3);
    // fetch's pool keeps its sockets: close ours and wait for it to let go of them before the fd check.
    r.disconnectAll();
    await until(() => openFdCount() <= fds + 1, 5000, "fetch's sockets to close");
  });

  it("Node's http client: a chunked POST through a keep-alive agent", async () => {
    const port = serve();
    const agent = new http.Agent({ keepAlive: true });
    try {
      const text = await new Promise<string>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/c', agent }, (res) => {
          let s = '';
          res.setEncoding('latin1');
          res.on('data', (d: string) => (s += d));
          res.on('end', () => resolve(s));
        });
        req.on('error', reject);
        req.write(BODY.subarray(0, 1000));
        req.end(BODY.subarray(1000));
      });
      expect(text).toBe(`len=${BODY.length} expect=- te=chunked sum=${SUM}\n`);
    } finally {
      agent.destroy();
    }
  });

  it("Python's http.client: GET, chunked POST and HTTP/1.0 on one connection", async () => {
    const port = serve();
    const script = [
      'import http.client, sys',
      `c = http.client.HTTPConnection("127.0.0.1", ${port}, timeout=10)`,
      'c.request("GET", "/py"); r = c.getresponse(); print(r.status, r.read().decode().strip())',
      'c.request("POST", "/py", body=iter([b"ab", b"cde"]), encode_chunked=True); r = c.getresponse(); print(r.status, r.read().decode().strip())',
      'c.request("GET", "/py/again"); r = c.getresponse(); print(r.status, r.read().decode().strip(), r.getheader("Connection"))',
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', script]);
    const sum = Buffer.from('abcde').reduce((a, b) => (a + b) % 65521, 0);
    expect(stdout).toBe(`200 path=/py\n200 len=5 expect=- te=chunked sum=${sum}\n200 path=/py/again None\n`);
    expect(connections).toBe(1);
  });
});
