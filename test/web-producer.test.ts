/**
 * A response body written by a producer (Request.registerProducer), on
 * every backend: the static File streams a file over 64 KiB a chunk at a
 * time (curl, Node's http and Python's http.client get every byte, whole
 * and in ranges, pipelined in order); a client that never reads stops the
 * reading of the file and is closed on after the Site's timeout, even when
 * it sends another request meanwhile; a Python client reading slowly
 * through a small receive buffer, taking longer than the timeout between
 * drains, still gets all of it; one that leaves mid-file has the file
 * closed; a pull producer is asked for chunk after chunk, to its end on a
 * HEAD too; a push producer behind a slower response waits paused until it
 * is first in line; the producer's wait does not outlive it (a long poll
 * behind it is not cut); a producer of a lost connection is stopped; and
 * registering a wrong producer is a clear error.
 */
import { execFile } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import type { IPv4Address } from '../lib/address';
import type { IPullProducer, IPushProducer } from '../lib/interfaces';
import type { Reactor } from '../lib/reactor';
import { File, NOT_DONE_YET, Request, Resource, Site, SiteOptions } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { until } from './helpers/tcp';
import { raw, responses } from './web-raw';

jest.setTimeout(20000);

const BIG = 3 * 1024 * 1024 + 12345; // not a whole number of chunks
const HUGE = 48 * 1024 * 1024;

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function run(cmd: string, args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 15000, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd}: ${err.message}\n${String(stderr)}`)) : resolve(stdout),
    );
  });
}

function nodeGet(port: number, target: string, headers: http.OutgoingHttpHeaders = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: target, headers, agent: false, timeout: 10000 }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
  });
}

/** The responses to `requests`, written at once on one connection that the last of them closes, with their bodies as bytes. */
async function pipelined(port: number, requests: string): Promise<{ status: number; body: Buffer }[]> {
  const { data } = await raw(port, requests, undefined, 15000);
  return responses(data).map((r) => ({ status: r.status, body: Buffer.from(r.body, 'latin1') }));
}

// The fs module object itself (not `import * as`'s wrapper of it): the one lib/web/file-producer.ts calls through.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const fsModule = require('fs') as typeof import('fs');

/** The fds fs.openSync returns for `file` from now on, as they are opened. */
function fdsOpenedFor(file: string): number[] {
  const fds: number[] = [];
  const realOpen = fsModule.openSync;
  jest.spyOn(fsModule, 'openSync').mockImplementation(((p: fs.PathLike, ...rest: unknown[]) => {
    const fd = (realOpen as (...a: unknown[]) => number)(p, ...rest);
    if (p === file) fds.push(fd);
    return fd;
  }) as typeof fs.openSync);
  return fds;
}

/**
 * A resource tree of `file` (a File) whose requests are handed to `seen`
 * as they are traversed: a test can then wait on their notifyFinish.
 */
function watched(file: Resource, seen: (request: Request) => void): Resource {
  const root = new Resource();
  root.getChild = (name: string, request: Request): Resource => {
    seen(request);
    return file.getChild(name, request);
  };
  return root;
}

/** A resource whose render hands the request to `render` (returning NOT_DONE_YET unless it returns a body). */
class Hand extends Resource {
  override isLeaf = true;
  constructor(private readonly fn: (request: Request) => string | void) {
    super();
  }
  render_GET(request: Request): string | typeof NOT_DONE_YET {
    const body = this.fn(request);
    return body === undefined ? NOT_DONE_YET : body;
  }
}

forEachBackend('web: a producer writes the body', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let dir: string;
  let big: Buffer;

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-producer-'));
    big = randomBytes(BIG);
    fs.writeFileSync(path.join(dir, 'big.bin'), big);
    fs.writeFileSync(path.join(dir, 'small.txt'), 'small\n');
    // More than the kernel's buffers on loopback take (a few MB each way): its sending waits on the client.
    fs.writeFileSync(path.join(dir, 'huge.bin'), Buffer.alloc(HUGE, 7));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  afterEach(() => jest.restoreAllMocks());

  function serve(resource: Resource, opts: SiteOptions = {}): number {
    const site = new Site(resource, { reactor: r, ...opts });
    return (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  }

  it('File streams a large file: curl, Node and Python get every byte, whole and in ranges past one chunk', async () => {
    const port = serve(new File(dir));
    const whole = await run('/usr/bin/curl', ['-s', '--fail', `http://127.0.0.1:${port}/big.bin`]);
    expect([whole.length, sha(whole)]).toEqual([BIG, sha(big)]);
    const part = await nodeGet(port, '/big.bin', { Range: 'bytes=100000-2600000' });
    expect([part.status, part.headers['content-range'], part.headers['content-length']]).toEqual([206, `bytes 100000-2600000/${BIG}`, '2500001']);
    expect(sha(part.body)).toBe(sha(big.subarray(100000, 2600001)));
    const py = await run('/usr/bin/python3', ['-c', [
      'import http.client, hashlib, sys',
      `c = http.client.HTTPConnection("127.0.0.1", ${port}, timeout=10)`,
      'c.request("GET", "/big.bin", headers={"Range": "bytes=-70000"})',
      'r = c.getresponse(); b = r.read()',
      'print(r.status, len(b), hashlib.sha256(b).hexdigest())',
    ].join('\n')]);
    expect(py.toString().trim()).toBe(`206 70000 ${sha(big.subarray(BIG - 70000))}`);
  });

  it('File: pipelined requests for large and small files come back whole and in order on one connection', async () => {
    const port = serve(new File(dir));
    const get = (p: string, last = false): string => `GET ${p} HTTP/1.1\r\nHost: x\r\n${last ? 'Connection: close\r\n' : ''}\r\n`;
    const res = await pipelined(port, get('/big.bin') + get('/small.txt') + get('/big.bin') + get('/small.txt', true));
    expect(res.map((x) => [x.status, x.body.length])).toEqual([[200, BIG], [200, 6], [200, BIG], [200, 6]]);
    expect([sha(res[0].body), sha(res[2].body), res[1].body.toString()]).toEqual([sha(big), sha(big), 'small\n']);
  });

  it('File: a client that never reads, even one that sends another request meanwhile, stops the reading of the file and is closed on after the timeout', async () => {
    const fds = fdsOpenedFor(path.join(dir, 'huge.bin'));
    let read = 0;
    const realRead = fsModule.readSync;
    jest.spyOn(fsModule, 'readSync').mockImplementation(((fd: number, ...rest: unknown[]) => {
      const n = (realRead as (...a: unknown[]) => number)(fd, ...rest);
      if (fds.includes(fd)) read += n;
      return n;
    }) as typeof fs.readSync);
    const closes = jest.spyOn(fsModule, 'closeSync');
    const lost: Promise<string>[] = [];
      let sock: net.Socket;
      const port = serve(watched(new File(dir), (request) => {
        lost.push(new Promise((resolve) => request.notifyFinish().addBoth((x) => resolve(x === undefined ? 'sent' : 'lost'))));
        // A second request once the first has filled the buffers: parsed (reading goes on), it must not end the first one's wait.
        if (lost.length === 1) setImmediate(() => sock.write('GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n'));
      }), { timeout: 0.3, abortTimeout: 0.3 });
      sock = net.connect(port, '127.0.0.1', () => sock.write('GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n'));
      sock.pause(); // never reads: the kernel's buffers fill, then the transport's
      sock.on('error', () => undefined);
      await until(() => lost.length === 2);
      expect(await Promise.all(lost)).toEqual(['lost', 'lost']); // (the server dropped the connection)
      sock.destroy();
      // The kernel's send and receive buffers (a few MB each on loopback) and a chunk or two, not 48 MiB.
      expect(read).toBeGreaterThan(64 * 1024);
      expect(read).toBeLessThan(20 * 1024 * 1024);
      expect(fds.length).toBe(1);
      expect(closes.mock.calls.filter(([fd]) => fd === fds[0]).length).toBe(1);
  });

  it('File: a client reading slowly, so that each drain takes longer than the timeout, is not cut off, and gets the whole file', async () => {
    const port = serve(new File(dir), { timeout: 0.25, abortTimeout: 0.25 });
    // Slowly (16 KiB each 20 ms) for its first second, while the server's
    // buffers are full and a drain of the transport's takes ~1 s; then at
    // full speed.
    const out = await run('/usr/bin/python3', ['-c', [
      'import hashlib, socket, time',
      'with socket.socket() as s:',
      '    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)',
      '    s.settimeout(10)',
      `    s.connect(("127.0.0.1", ${port}))`,
      '    s.sendall(b"GET /huge.bin HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n")',
      '    data = bytearray()',
      '    slow_until = time.monotonic() + 1.0',
      '    while True:',
      '        chunk = s.recv(16384 if time.monotonic() < slow_until else 1 << 20)',
      '        if not chunk: break',
      '        data += chunk',
      '        if time.monotonic() < slow_until: time.sleep(0.02)',
      'body = bytes(data[data.index(b"\\r\\n\\r\\n") + 4:])',
      'print(len(body), hashlib.sha256(body).hexdigest())',
    ].join('\n')]);
    expect(out.toString().trim()).toBe(`${HUGE} ${sha(Buffer.alloc(HUGE, 7))}`);
  });

  it('File: a client that leaves mid-file has the file closed, and its request fails notifyFinish', async () => {
    const fds = fdsOpenedFor(path.join(dir, 'huge.bin'));
    const closes = jest.spyOn(fsModule, 'closeSync');
    let failed: (why: string) => void;
    const lost = new Promise<string>((resolve) => (failed = resolve));
    const port = serve(watched(new File(dir), (request) => void request.notifyFinish().addErrback((f) => failed(f.getErrorMessage()))));
    const sock = net.connect(port, '127.0.0.1', () => sock.write('GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = 0;
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      got += d.length;
      if (got > 200000) sock.destroy();
    });
    await lost;
    expect(got).toBeLessThan(HUGE);
    expect(fds.length).toBe(1);
    expect(closes.mock.calls.filter(([fd]) => fd === fds[0]).length).toBe(1);
  });

  it('a pull producer is asked for one chunk after another until it finishes (chunked, as its length is unknown)', async () => {
    const chunks = Array.from({ length: 300 }, (_, i) => Buffer.alloc(10000, i & 0xff));
    let asked = 0;
    const port = serve(new Hand((request) => {
      const producer: IPullProducer = {
        resumeProducing: () => {
          asked++;
          const next = chunks[asked - 1];
          if (next !== undefined) return request.write(next);
          request.unregisterProducer();
          request.finish();
        },
        stopProducing: () => undefined,
      };
      request.registerProducer(producer, false);
    }));
    const res = await nodeGet(port, '/');
    expect([res.status, res.headers['transfer-encoding']]).toEqual([200, 'chunked']);
    expect(sha(res.body)).toBe(sha(Buffer.concat(chunks)));
    expect(asked).toBe(301);
    // HEAD, on a connection the client keeps: the chunks go nowhere, and the producer is still asked on to its end.
    asked = 0;
    const sock = net.connect(port, '127.0.0.1', () => sock.write('HEAD / HTTP/1.1\r\nHost: x\r\n\r\n'));
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    sock.on('error', () => undefined);
    try {
      await until(() => asked === 301, 5000, "the HEAD answer's producer to be asked to its end");
      await until(() => got.endsWith('\r\n\r\n'), 5000, 'the HEAD answer');
      expect(got).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      sock.destroy();
    }
  });

  it('a push producer behind a slower response waits paused until that one is done, then writes in order', async () => {
    const events: string[] = [];
    let first: Request | null = null;
    const port = serve(new Hand((request) => {
      if (request.path === '/slow') {
        first = request;
        request.setHeader('Content-Length', 5);
        r.callLater(0.05, () => {
          events.push('slow done');
          request.write('slow\n');
          request.finish();
        });
        return;
      }
      let paused = false;
      let left = 40;
      const producer: IPushProducer = {
        pauseProducing: () => {
          events.push('pause');
          paused = true;
        },
        resumeProducing: () => {
          events.push('resume');
          paused = false;
          while (!paused && left > 0) request.write(Buffer.alloc(50000, left--));
          if (left === 0) {
            request.unregisterProducer();
            request.finish();
          }
        },
        stopProducing: () => events.push('stop'),
      };
      request.setHeader('Content-Length', 40 * 50000);
      request.registerProducer(producer, true);
    }));
    const res = await pipelined(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /push HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(first).not.toBeNull();
    expect(res.map((x) => [x.status, x.body.length])).toEqual([[200, 5], [200, 2000000]]);
    const want = Buffer.concat(Array.from({ length: 40 }, (_, i) => Buffer.alloc(50000, 40 - i)));
    expect(res[1].body.equals(want)).toBe(true);
    expect(events.slice(0, 3)).toEqual(['pause', 'slow done', 'resume']);
    expect(events).not.toContain('stop');
  });

  it("a producer's wait on the client ends with it: a long poll behind it, answered after the timeout, is not cut", async () => {
    const port = serve(new Hand((request) => {
      if (request.path === '/poll') {
        request.setHeader('Content-Length', 5);
        r.callLater(0.8, () => (request.write('poll\n'), request.finish()));
        return;
      }
      // 4 MB in two writes, each of which fills the buffers (a pause): the response ends with its producer waiting on the client.
      let paused = false;
      let written = 0;
      const pump = (): void => {
        while (!paused && written < 2) request.write(Buffer.alloc(2000000, ++written));
        if (written === 2 && !request.finished) {
          request.unregisterProducer();
          request.finish();
        }
      };
      const producer: IPushProducer = {
        pauseProducing: () => void (paused = true),
        resumeProducing: () => ((paused = false), pump()),
        stopProducing: () => undefined,
      };
      request.setHeader('Content-Length', 4000000);
      request.registerProducer(producer, true);
      pump();
    }), { timeout: 0.3 });
    const res = await pipelined(port, 'GET /push HTTP/1.1\r\nHost: x\r\n\r\nGET /poll HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.map((x) => [x.status, x.body.length])).toEqual([[200, 4000000], [200, 5]]);
    expect(res[1].body.toString()).toBe('poll\n');
  });

  it('the producer of a response whose client left is stopped, once', async () => {
    let stops = 0;
    let registered: () => void;
    const ready = new Promise<void>((resolve) => (registered = resolve));
    let stopped: () => void;
    const gone = new Promise<void>((resolve) => (stopped = resolve));
    const port = serve(new Hand((request) => {
      request.registerProducer({ pauseProducing: () => undefined, resumeProducing: () => undefined, stopProducing: () => (stops++, stopped()) }, true);
      request.write('a start\n');
      registered();
    }));
    const sock = net.connect(port, '127.0.0.1', () => sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    sock.on('error', () => undefined);
    await ready;
    sock.destroy();
    await gone;
    expect(stops).toBe(1);
  });

  it('registering a wrong producer, a second one, or one after finish is a clear error', async () => {
    const seen: string[] = [];
    const port = serve(new Hand((request) => {
      const tryIt = (fn: () => void): void => {
        try {
          fn();
          seen.push('ok');
        } catch (err) {
          seen.push(`${(err as Error).name}: ${(err as Error).message}`);
        }
      };
      const pull: IPullProducer = { resumeProducing: () => undefined, stopProducing: () => undefined };
      tryIt(() => request.registerProducer(null as unknown as IPullProducer, false));
      tryIt(() => request.registerProducer(pull, true));
      tryIt(() => request.registerProducer(pull, false));
      tryIt(() => request.registerProducer(pull, false));
      request.unregisterProducer();
      request.finish();
      tryIt(() => request.registerProducer(pull, false));
    }));
    const res = await nodeGet(port, '/');
    expect(res.status).toBe(200);
    expect(seen).toEqual([
      'TypeError: Request.registerProducer: producer must have resumeProducing and stopProducing',
      'TypeError: Request.registerProducer: a streaming producer must have pauseProducing',
      'ok',
      'Error: Request.registerProducer: a producer is already registered; unregister it first',
      'Error: Request.registerProducer called after finish()',
    ]);
  });
});
