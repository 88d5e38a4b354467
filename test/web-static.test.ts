/**
 * The static File resource over real sockets on every backend, with real
 * clients: curl (types, ranges, 416, 304 on If-None-Match, a directory's
 * redirect, index and listing, and every way out of the root it can be
 * asked: "..", "%2e%2e", "..%2f", a symlink), Node's http client
 * (If-Modified-Since, HEAD) and Python's http.client (a suffix range).
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { File, Site } from '../lib/web';
import { byteRange } from '../lib/web/range';
import { forEachBackend, reactorPerTest } from './helpers/backends';

jest.setTimeout(20000);

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd}: ${err.message}\n${stderr}`)) : resolve(stdout)));
  });
}

/** curl -si: the status code, the headers (lower-case names) and the body. */
async function curl(...args: string[]): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const out = await run('/usr/bin/curl', ['-si', '--path-as-is', ...args]);
  const split = out.indexOf('\r\n\r\n');
  const lines = out.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
  return { status: Number(lines[0].split(' ')[1]), headers, body: out.slice(split + 4) };
}

/** One raw request (a target curl would not send as is): the status code. */
function rawStatus(port: number, target: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
    let data = '';
    const timer = setTimeout(() => (s.destroy(), reject(new Error('timed out'))), 5000);
    s.on('data', (d: Buffer) => (data += d.toString('latin1')));
    s.on('close', () => (clearTimeout(timer), resolve(Number(data.split(' ')[1]))));
    s.on('error', reject);
  });
}

describe('byteRange', () => {
  it('reads one bytes= range, ignores what it may ignore, and refuses what is past the end', () => {
    expect(byteRange('bytes=0-4', 10)).toEqual([0, 5]);
    expect(byteRange('bytes=5-', 10)).toEqual([5, 10]);
    expect(byteRange('bytes=-3', 10)).toEqual([7, 10]);
    expect(byteRange('bytes=-30', 10)).toEqual([0, 10]);
    expect(byteRange('bytes=8-100', 10)).toEqual([8, 10]);
    expect(byteRange('bytes=10-', 10)).toBe('unsatisfiable');
    expect(byteRange('bytes=-0', 10)).toBe('unsatisfiable');
    expect(byteRange('bytes=5-2', 10)).toBeNull();
    expect(byteRange('bytes=0-1,4-5', 10)).toBeNull();
    expect(byteRange('items=0-1', 10)).toBeNull();
  });
});

forEachBackend('web: File', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let dir: string;
  let root: string;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-static-'));
    root = path.join(dir, 'root');
    fs.mkdirSync(path.join(root, 'sub'), { recursive: true });
    fs.mkdirSync(path.join(root, 'site'));
    fs.writeFileSync(path.join(root, 'hello.txt'), 'hello, world\n');
    fs.writeFileSync(path.join(root, 'app.js'), 'console.log(1);\n');
    fs.writeFileSync(path.join(root, 'data.bin'), Buffer.from('0123456789'));
    fs.writeFileSync(path.join(root, 'sub', 'a b.css'), 'p{}\n');
    fs.writeFileSync(path.join(root, 'site', 'index.html'), '<p>index</p>\n');
    fs.writeFileSync(path.join(dir, 'secret.txt'), 'SECRET\n');
    fs.symlinkSync(path.join(dir, 'secret.txt'), path.join(root, 'out-link'));
    fs.symlinkSync(path.join(dir), path.join(root, 'out-dir'));
    fs.symlinkSync(path.join(root, 'hello.txt'), path.join(root, 'in-link'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function serve(): number {
    const site = new Site(new File(root), { reactor: r });
    return (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  }

  it('curl: a file with its type, length, validators; a symlink inside the root', async () => {
    const port = serve();
    const a = await curl(`http://127.0.0.1:${port}/hello.txt`);
    expect([a.status, a.body]).toEqual([200, 'hello, world\n']);
    expect(a.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(a.headers['content-length']).toBe('13');
    expect(a.headers['accept-ranges']).toBe('bytes');
    expect(a.headers['etag']).toMatch(/^W\/"/);
    expect(Date.parse(a.headers['last-modified'])).toBeGreaterThan(0);
    expect((await curl(`http://127.0.0.1:${port}/app.js`)).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await curl(`http://127.0.0.1:${port}/data.bin`)).headers['content-type']).toBe('application/octet-stream');
    expect((await curl(`http://127.0.0.1:${port}/sub/a%20b.css`)).body).toBe('p{}\n');
    expect((await curl(`http://127.0.0.1:${port}/in-link`)).body).toBe('hello, world\n');
  });

  it('curl: a range is 206 with Content-Range, one past the end 416; If-None-Match gives 304', async () => {
    const port = serve();
    const part = await curl('-r', '2-5', `http://127.0.0.1:${port}/data.bin`);
    expect([part.status, part.body, part.headers['content-range'], part.headers['content-length']]).toEqual([206, '2345', 'bytes 2-5/10', '4']);
    const past = await curl('-r', '10-', `http://127.0.0.1:${port}/data.bin`);
    expect([past.status, past.headers['content-range']]).toEqual([416, 'bytes */10']);
    const first = await curl(`http://127.0.0.1:${port}/data.bin`);
    const again = await curl('-H', `If-None-Match: ${first.headers['etag']}`, `http://127.0.0.1:${port}/data.bin`);
    expect([again.status, again.body]).toEqual([304, '']);
    const changed = await curl('-H', 'If-None-Match: "other"', `http://127.0.0.1:${port}/data.bin`);
    expect(changed.status).toBe(200);
    // If-Range with a validator that no longer matches: the whole file.
    const stale = await curl('-r', '0-1', '-H', 'If-Range: Mon, 01 Jan 2001 00:00:00 GMT', `http://127.0.0.1:${port}/data.bin`);
    expect([stale.status, stale.body]).toEqual([200, '0123456789']);
  });

  it('curl: a directory redirects to its slash, then shows its index or a listing', async () => {
    const port = serve();
    const redirect = await curl(`http://127.0.0.1:${port}/site?x=1`);
    expect([redirect.status, redirect.headers['location']]).toEqual([301, '/site/?x=1']);
    expect((await curl(`http://127.0.0.1:${port}/site/`)).body).toBe('<p>index</p>\n');
    const listing = await curl(`http://127.0.0.1:${port}/sub/`);
    expect(listing.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(listing.body).toContain('<a href="a%20b.css">a b.css</a>');
    const top = await curl(`http://127.0.0.1:${port}/`);
    expect(top.body).toContain('<a href="sub/">sub/</a>');
  });

  it('never serves outside the root: "..", "%2e%2e", "..%2f", a backslash, NUL, symlinks out', async () => {
    const port = serve();
    for (const target of ['/../secret.txt', '/sub/../../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/sub/%2e%2e/%2e%2e/secret.txt', '/..%2fsecret.txt', '/sub%2f..%2f..%2fsecret.txt', '/..%5csecret.txt', '/hello.txt%00', '/out-link', '/out-dir/secret.txt', '/hello.txt/more']) {
      const res = await curl(`http://127.0.0.1:${port}${target}`);
      expect([target, res.status]).toEqual([target, 404]);
      expect(res.body).not.toContain('SECRET');
    }
    // The raw request line too (what curl might have tidied).
    expect(await rawStatus(port, '/../secret.txt')).toBe(404);
    expect(await rawStatus(port, '/./hello.txt')).toBe(404);
  });

  it("Node's http client: If-Modified-Since gives 304; HEAD gives the length and no body", async () => {
    const port = serve();
    const get = (method: string, headers: Record<string, string>): Promise<[number, http.IncomingHttpHeaders, string]> =>
      new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method, path: '/hello.txt', headers, agent: false }, (res) => {
          let s = '';
          res.setEncoding('latin1');
          res.on('data', (d: string) => (s += d));
          res.on('end', () => resolve([res.statusCode!, res.headers, s]));
        });
        req.on('error', reject);
        req.end();
      });
    const [, h] = await get('GET', {});
    const [status, , body] = await get('GET', { 'If-Modified-Since': h['last-modified']! });
    expect([status, body]).toEqual([304, '']);
    const [older] = await get('GET', { 'If-Modified-Since': 'Mon, 01 Jan 2001 00:00:00 GMT' });
    expect(older).toBe(200);
    const [headStatus, headHeaders, headBody] = await get('HEAD', {});
    expect([headStatus, headHeaders['content-length'], headBody]).toEqual([200, '13', '']);
  });

  it("Python's http.client: a suffix range, then a 405 for POST", async () => {
    const port = serve();
    const script = [
      'import http.client',
      `c = http.client.HTTPConnection("127.0.0.1", ${port}, timeout=10)`,
      'c.request("GET", "/data.bin", headers={"Range": "bytes=-3"}); r = c.getresponse(); print(r.status, r.read().decode(), r.getheader("Content-Range"))',
      'c.request("POST", "/data.bin", body=b"x"); r = c.getresponse(); r.read(); print(r.status, r.getheader("Allow"))',
    ].join('\n');
    expect(await run('/usr/bin/python3', ['-c', script])).toBe('206 789 bytes 7-9/10\n405 GET, HEAD\n');
  });
});
