/**
 * Site, Resource and Request over real sockets on every backend: the
 * resource tree, keep-alive and pipelining, chunked bodies both ways,
 * 100-continue, HTTP/1.0, HEAD, errors that close only their own
 * connection, notifyFinish, an Upgrade request answered later as plain
 * HTTP, the timeouts (on a task.Clock), the abort of a closing connection
 * whose client never reads, and the pipelining bound.
 */
import * as net from 'net';
import type { IPv4Address } from '../lib/address';
import { ConnectionAborted } from '../lib/errors';
import type { Failure } from '../lib/failure';
import type { Reactor } from '../lib/reactor';
import { Clock } from '../lib/task';
import { FunctionResource, HTTPChannel, Request, Resource, Site, SiteOptions } from '../lib/web';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { captureLog, until } from './helpers/tcp';
import { raw, responses } from './web-raw';
import { Slow } from './helpers/slow-resource';

jest.setTimeout(15000);

/** Answers GET with its path facts; POST with its body; /slow/* later (kept in `waiting`). */
let echoed = 0;

class Echo extends Resource {
  override isLeaf = true;
  render_GET(request: Request): string {
    echoed++;
    return JSON.stringify({ prepath: request.prepath, postpath: request.postpath, args: request.args, proto: request.clientproto });
  }
  render_POST(request: Request): Buffer {
    return request.content;
  }
}

let bigRendered = 0;
const BIG = Buffer.alloc(64 * 1024, 0x62);

class Big extends Resource {
  override isLeaf = true;
  render_GET(): Buffer {
    bigRendered++;
    return BIG;
  }
}

/** More than the kernel's socket buffers hold for a client that does not read. */
const HUGE = Buffer.alloc(16 << 20, 0x68);
let hugeRendered = 0;

class Huge extends Resource {
  override isLeaf = true;
  render_GET(): Buffer {
    hugeRendered++;
    return HUGE;
  }
}

forEachBackend('web: Site', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let slow: Slow;
  let channels: HTTPChannel[];

  function serve(opts: SiteOptions = {}): number {
    const root = new Resource();
    root.putChild('echo', new Echo());
    slow = new Slow();
    root.putChild('slow', slow);
    root.putChild('big', new Big());
    root.putChild('huge', new Huge());
    root.putChild('fn', new FunctionResource((req) => (req.method === 'DELETE' ? Promise.reject(new Error('nope')) : Promise.resolve(`fn:${req.path}`))));
    const site = new Site(root, { reactor: r, ...opts });
    channels = [];
    const build = site.buildProtocol.bind(site);
    site.buildProtocol = (addr) => {
      const ch = build(addr);
      channels.push(ch);
      return ch;
    };
    return (r.listenTCP(0, site, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  }

  it('walks the resource tree: prepath, postpath, args; 404 and 405 with Allow', async () => {
    const port = serve();
    const res = await raw(port, 'GET /echo/a%20b/c?x=1&x=2&y=%41 HTTP/1.1\r\nHost: h\r\n\r\nGET /nope HTTP/1.1\r\n\r\nPUT /echo HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    const [ok, missing, notAllowed] = responses(res.data);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ prepath: ['echo'], postpath: ['a b', 'c'], args: { x: ['1', '2'], y: ['A'] }, proto: 'HTTP/1.1' });
    expect(ok.headers.date).toMatch(/^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
    expect(missing.status).toBe(404);
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.headers.allow).toBe('GET, HEAD, POST');
    expect(res.closed).toBe(true);
  });

  it('with requireHostHeader, answers an HTTP/1.1 request without Host 400 and closes; HTTP/1.0 and a named host are served', async () => {
    const port = serve({ requireHostHeader: true });
    const ok = await raw(port, 'GET /echo HTTP/1.1\r\nhOST: h\r\n\r\nGET /echo HTTP/1.0\r\n\r\n');
    expect(responses(ok.data).map((x) => x.status)).toEqual([200, 200]);
    const refused = await raw(port, 'GET /echo HTTP/1.1\r\n\r\nGET /echo HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(responses(refused.data).map((x) => x.status)).toEqual([400]);
    expect(refused.closed).toBe(true);
    const byDefault = await raw(serve(), 'GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n');
    expect(responses(byDefault.data).map((x) => x.status)).toEqual([200]);
    expect(() => new Site(new Resource(), { requireHostHeader: 'yes' as unknown as boolean })).toThrow(TypeError);
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const port = serve();
    const res = await raw(port, 'HEAD /echo HTTP/1.1\r\n\r\nGET /echo HTTP/1.1\r\nConnection: close\r\n\r\n');
    const [head, get] = responses(res.data, [0]);
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
    expect(get.body).toContain('"proto"');
  });

  it('keeps pipelined responses in request order when an earlier one finishes later', async () => {
    const port = serve();
    const got = raw(port, 'GET /slow HTTP/1.1\r\n\r\nGET /echo/2 HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc');
    await until(() => slow.waiting.length === 1, 5000, 'the slow request');
    const req = slow.waiting[0];
    req.write('first ');
    req.write('part');
    req.finish();
    const res = await got;
    const [a, b, c] = responses(res.data);
    expect(a.headers['transfer-encoding']).toBe('chunked');
    expect(a.body).toBe('first part');
    expect(JSON.parse(b.body).postpath).toEqual(['2']);
    expect(c.body).toBe('abc');
  });

  it('decodes a chunked request body and answers HTTP/1.0 without chunking, then closes', async () => {
    const port = serve();
    const res = await raw(port, 'POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\nGET /echo HTTP/1.0\r\n\r\n');
    const [post, get] = responses(res.data);
    expect(post.body).toBe('abcdefg');
    expect(JSON.parse(get.body).proto).toBe('HTTP/1.0');
    expect(get.headers.connection).toBe('close');
    expect(res.closed).toBe(true);
  });

  it('ends an HTTP/1.0 response of unknown length by closing; keeps 1.0 keep-alive with a length', async () => {
    const port = serve();
    const got = raw(port, 'GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /slow HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    await until(() => slow.waiting.length === 1, 5000, 'the slow request');
    slow.waiting[0].write('streamed');
    slow.waiting[0].finish();
    const res = await got;
    expect(res.closed).toBe(true);
    const [first, second] = responses(res.data);
    expect(first.headers.connection).toBe('keep-alive');
    expect(second.headers.connection).toBe('close');
    expect(second.headers['transfer-encoding']).toBeUndefined();
    expect(second.body).toBe('streamed');
  });

  it('sends 100 Continue before reading the body, and 413 without it when the length is over the limit', async () => {
    const port = serve({ maxBodyBytes: 10 });
    const res = await raw(port, 'POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n', (d) => d.includes('100 Continue'));
    expect(res.data).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const big = await raw(port, 'POST /echo HTTP/1.1\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n');
    expect(big.data).toMatch(/^HTTP\/1\.1 413 /);
    expect(big.closed).toBe(true);
  });

  it('sends 100 Continue to a pipelined request only once the responses before it are out', async () => {
    const port = serve();
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
    sock.on('error', () => undefined);
    sock.write('GET /slow/1 HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n');
    await until(() => slow.waiting.length === 1 && channels[0]['current'] !== null, 5000, 'both heads');
    expect(data).toBe('');
    slow.waiting[0].write('one');
    slow.waiting[0].finish();
    await until(() => data.includes('100 Continue'), 5000, 'the 100');
    expect(responses(data.slice(0, data.indexOf('HTTP/1.1 100')))[0].body).toBe('one');
    expect(data.endsWith('HTTP/1.1 100 Continue\r\n\r\n')).toBe(true);
    sock.write('ok');
    await until(() => data.endsWith('\r\n\r\nok'), 5000, 'the echo');
    sock.destroy();
  });

  it('answers a smuggling attempt 400 after the responses before it, and closes', async () => {
    const port = serve();
    const res = await raw(port, 'GET /echo HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo HTTP/1.1\r\n\r\n');
    const all = responses(res.data);
    expect(all.map((x) => x.status)).toEqual([200, 400]);
    expect(all[1].headers.connection).toBe('close');
    expect(res.closed).toBe(true);
  });

  it('answers headers over maxHeaderBytes 431, while another connection keeps working', async () => {
    const port = serve({ maxHeaderBytes: 200 });
    const good = raw(port, ['GET /slow HTTP/1.1\r\n\r\n']);
    await until(() => slow.waiting.length === 1, 5000, 'the slow request');
    const bad = await raw(port, 'GET /echo HTTP/1.1\r\nX: ' + 'a'.repeat(300) + '\r\n\r\n');
    expect(bad.data).toMatch(/^HTTP\/1\.1 431 /);
    expect(bad.closed).toBe(true);
    slow.waiting[0].setHeader('Connection', 'close');
    slow.waiting[0].finish();
    expect((await good).data).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('answers more header fields than maxHeaders 431 and closes; as many as the limit are served', async () => {
    const port = serve({ maxHeaders: 3 });
    const ok = await raw(port, 'GET /echo HTTP/1.1\r\nA: 1\r\nB: 2\r\nConnection: close\r\n\r\n');
    expect(ok.data).toMatch(/^HTTP\/1\.1 200 /);
    const bad = await raw(port, 'GET /echo HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n');
    expect(bad.data).toMatch(/^HTTP\/1\.1 431 /);
    expect(bad.closed).toBe(true);
  });

  it('fires notifyFinish on finish, and fails it when the client goes away first', async () => {
    const port = serve();
    const got = raw(port, 'GET /slow HTTP/1.1\r\n\r\n', (d) => d.includes('\r\n\r\n'));
    await until(() => slow.waiting.length === 1, 5000, 'the slow request');
    const done = slow.waiting[0].notifyFinish().asPromise();
    slow.waiting[0].finish();
    await expect(done).resolves.toBeUndefined();
    await got;
    const sock = net.connect(port, '127.0.0.1', () => sock.write('GET /slow HTTP/1.1\r\n\r\n'));
    sock.on('error', () => undefined);
    await until(() => slow.waiting.length === 2, 5000, 'the second slow request');
    const lost = slow.waiting[1].notifyFinish().asPromise();
    sock.destroy();
    await expect(lost).rejects.toThrow(/Connection/);
    slow.waiting[1].write('dropped');
    slow.waiting[1].finish();
  });

  it('logs a render that throws and answers 500; a function handler is mounted as a leaf', async () => {
    const port = serve();
    const logged = captureLog();
    try {
      const res = await raw(port, 'GET /fn/a/b HTTP/1.1\r\n\r\nDELETE /fn HTTP/1.1\r\nConnection: close\r\n\r\n');
      const [ok, failed] = responses(res.data);
      expect(ok.body).toBe('fn:/fn/a/b');
      expect(failed.status).toBe(500);
      expect(logged.events.map((e) => (e.failure?.value as Error | undefined)?.message)).toEqual(['nope']);
    } finally {
      logged.stop();
    }
  });

  it('stops reading beyond maxPipelined unanswered requests, and reads on as they drain', async () => {
    const port = serve({ maxPipelined: 2 });
    const got = raw(port, 'GET /slow/1 HTTP/1.1\r\n\r\n'.repeat(4) + 'GET /slow/5 HTTP/1.1\r\nConnection: close\r\n\r\n');
    await until(() => slow.waiting.length === 2 && channels[0]['paused'], 5000, 'two requests and a pause');
    expect(slow.waiting).toHaveLength(2);
    for (let i = 0; i < 5; i++) {
      await until(() => slow.waiting.length > i, 5000, `request ${i + 1}`);
      slow.waiting[i].write(`r${i + 1}`);
      slow.waiting[i].finish();
    }
    const res = await got;
    expect(responses(res.data).map((x) => x.body)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  });

  it('stops reading requests while the client does not read the answers, and goes on when it does', async () => {
    const port = serve();
    const N = 300;
    const before = bigRendered;
    const sock = net.connect(port, '127.0.0.1');
    sock.on('error', () => undefined);
    sock.pause();
    sock.write('GET /big HTTP/1.1\r\n\r\n'.repeat(N - 1) + 'GET /big HTTP/1.1\r\nConnection: close\r\n\r\n');
    await until(() => channels.length === 1 && channels[0]['paused'] && channels[0]['writeBlocked'], 10000, 'reading to stop');
    expect(bigRendered - before).toBeLessThan(N);
    let got = 0;
    sock.on('data', (d: Buffer) => (got += d.length));
    const closed = new Promise((resolve) => sock.on('close', resolve));
    sock.resume();
    await closed;
    expect(bigRendered - before).toBe(N);
    expect(got).toBeGreaterThan(N * BIG.length);
  });

  describe('an Upgrade request answered later with a plain response', () => {
    const UPGRADE = 'GET /slow/up HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n';

    interface Client {
      sock: net.Socket;
      got: () => string;
      closed: () => boolean;
    }

    /** A client that has written `text` (its socket is destroyed by the caller). */
    function client(port: number, text: string): Client {
      const sock = net.connect(port, '127.0.0.1');
      let data = '';
      let closed = false;
      sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
      sock.on('error', () => undefined);
      sock.on('close', () => (closed = true));
      sock.write(text);
      return { sock, got: () => data, closed: () => closed };
    }

    /** A client that has sent UPGRADE, once the server holds it unanswered. */
    async function upgradeWaiting(port: number): Promise<Client> {
      // The head alone in its write: the server's read ends exactly where it does.
      const c = client(port, UPGRADE);
      await until(() => slow.waiting.length === 1, 5000, 'the Upgrade request');
      return c;
    }

    /** A whole request and answer on another connection: the server's reactor polled (and read what it would) meanwhile. */
    async function roundTrip(port: number): Promise<void> {
      const res = await raw(port, 'GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n');
      expect(responses(res.data).map((x) => x.status)).toEqual([200]);
    }

    it('answers the request pipelined behind it in a later read, after it and in order', async () => {
      const port = serve();
      const c = await upgradeWaiting(port);
      try {
        c.sock.write('GET /echo/2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
        await roundTrip(port);
        slow.waiting[0].write('first');
        slow.waiting[0].finish();
        await until(c.closed, 5000, 'both answers and the close');
        const [first, second] = responses(c.got());
        expect([first.status, first.body]).toEqual([200, 'first']);
        expect(JSON.parse(second.body).postpath).toEqual(['2']);
      } finally {
        c.sock.destroy();
      }
    });

    it('stops reading meanwhile: what the client keeps sending waits in the kernel, not in the channel, then is parsed', async () => {
      const port = serve();
      const c = await upgradeWaiting(port);
      try {
        const ch = channels[0];
        expect(ch['paused']).toBe(true);
        let read = 0;
        const dataReceived = ch.dataReceived.bind(ch);
        ch.dataReceived = (data: Buffer) => {
          read += data.length;
          dataReceived(data);
        };
        const N = 200;
        for (let i = 0; i < N; i++) c.sock.write(`GET /echo/${i} HTTP/1.1\r\nHost: h\r\nX-Pad: ${'p'.repeat(200)}\r\n\r\n`);
        c.sock.write('GET /echo/last HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
        await roundTrip(port);
        await roundTrip(port);
        expect(read).toBe(0);
        expect(ch['held']).toBeNull();
        expect(ch['paused']).toBe(true);
        slow.waiting[0].finish();
        await until(c.closed, 5000, 'every answer and the close');
        const all = responses(c.got());
        expect(all).toHaveLength(N + 2);
        expect(all.slice(1).map((x) => JSON.parse(x.body).postpath[0])).toEqual([...Array.from({ length: N }, (_, i) => String(i)), 'last']);
      } finally {
        c.sock.destroy();
      }
    });

    it('still holds what follows it once the responses before it are done', async () => {
      const port = serve();
      const c = client(port, 'GET /slow/before HTTP/1.1\r\nHost: h\r\n\r\n' + UPGRADE);
      try {
        await until(() => slow.waiting.length === 2, 5000, 'both requests');
        slow.waiting[0].finish();
        await until(() => c.got().startsWith('HTTP/1.1 200 '), 5000, 'the first answer');
        const before = echoed;
        c.sock.write('GET /echo/after HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
        await roundTrip(port);
        expect(echoed).toBe(before + 1); // the round trip's only
        slow.waiting[1].finish();
        await until(c.closed, 5000, 'the last answer and the close');
        const all = responses(c.got());
        expect(all.map((x) => x.status)).toEqual([200, 200, 200]);
        expect(JSON.parse(all[2].body).postpath).toEqual(['after']);
      } finally {
        c.sock.destroy();
      }
    });
  });

  describe('a client that never reads', () => {
    const sockets: net.Socket[] = [];
    afterEach(() => {
      for (const s of sockets.splice(0)) s.destroy();
    });

    /**
     * A client that sends `request` (then its EOF, if `end`) and reads
     * nothing, once the server has written its answer (more than the kernel
     * takes); with the reason its connection is lost for, once it is.
     */
    async function deaf(port: number, request: string, end = false): Promise<{ sock: net.Socket; channel: HTTPChannel; lost: () => Failure | null }> {
      const sock = net.connect(port, '127.0.0.1');
      sockets.push(sock);
      sock.pause();
      sock.on('error', () => undefined);
      const before = hugeRendered;
      if (end) sock.end(request);
      else sock.write(request);
      // (the answer is written in the render's call)
      await until(() => hugeRendered === before + 1, 5000, 'the answer');
      const channel = channels[0];
      let reason: Failure | null = null;
      const connectionLost = channel.connectionLost.bind(channel);
      channel.connectionLost = (why: Failure) => {
        reason = why;
        connectionLost(why);
      };
      return { sock, channel, lost: () => reason };
    }

    /** Resolves once `c`'s connection is aborted (rejects if it is not within 5 s, or is lost otherwise). */
    async function aborted(c: { lost: () => Failure | null }): Promise<void> {
      await until(() => c.lost() !== null, 5000, 'the abort');
      expect(c.lost()!.check(ConnectionAborted)).toBe(ConnectionAborted);
    }

    /** What the transport still holds for the client. */
    function unsent(channel: HTTPChannel): number {
      return (channel.transport as unknown as { bufferedAmount(): number }).bufferedAmount();
    }

    /** What the client has yet to get, the kernel's send queue included. */
    function toPeer(channel: HTTPChannel): number {
      return (channel.transport as unknown as { unsentToPeer(): number }).unsentToPeer();
    }

    it('is aborted abortTimeout after the timeout closed its connection, its answer unsent', async () => {
      const port = serve({ timeout: 0.2, abortTimeout: 0.3 });
      const started = r.seconds();
      const c = await deaf(port, 'GET /huge HTTP/1.1\r\n\r\n');
      expect(unsent(c.channel)).toBeGreaterThan(0);
      await aborted(c);
      // 0.2 s to the close, 0.3 s more to the abort (less a millisecond's rounding); well before a flush that never comes.
      expect(r.seconds() - started).toBeGreaterThan(0.49);
      expect(r.seconds() - started).toBeLessThan(3);
      let got = 0;
      let closed = false;
      c.sock.on('data', (d: Buffer) => (got += d.length));
      c.sock.on('close', () => (closed = true));
      c.sock.resume();
      await until(() => closed, 5000, "the client's close");
      expect(got).toBeLessThan(HUGE.length);
    });

    describe('on a task.Clock', () => {
      let clock: Clock;
      beforeEach(() => (clock = new Clock()));

      it('closes at the timeout, and aborts abortTimeout later', async () => {
        const port = serve({ reactor: clock, timeout: 5, abortTimeout: 3 });
        const c = await deaf(port, 'GET /huge HTTP/1.1\r\n\r\n');
        clock.advance(5.1);
        expect(c.channel['closing']).toBe(true);
        clock.advance(2.8);
        expect(unsent(c.channel)).toBeGreaterThan(0);
        expect(c.lost()).toBeNull();
        clock.advance(0.2);
        await aborted(c);
      });

      it.each([
        ['a Connection: close answer', 'GET /huge HTTP/1.1\r\nConnection: close\r\n\r\n', false],
        ["a client's EOF", 'GET /huge HTTP/1.1\r\n\r\n', true],
      ])('aborts a connection closed at %s once the timeout and abortTimeout have passed', async (_after, request, end) => {
        const port = serve({ reactor: clock, timeout: 5, abortTimeout: 3 });
        const c = await deaf(port, request, end);
        await until(() => c.channel['closing'], 5000, 'the close');
        clock.advance(7.9);
        expect(c.lost()).toBeNull();
        clock.advance(0.2);
        await aborted(c);
      });

      it('a client still reading, however little a window, gets abortTimeout more each time; once it stops, it is aborted', async () => {
        const port = serve({ reactor: clock, timeout: 5, abortTimeout: 3 });
        const c = await deaf(port, 'GET /huge HTTP/1.1\r\n\r\n');
        clock.advance(5.1);
        expect(c.channel['closing']).toBe(true);
        for (let round = 0; round < 3; round++) {
          // The client reads a little (less than the kernel's step, so what is buffered above it may not move), then stops again, in each window.
          const before = toPeer(c.channel);
          let got = 0;
          const take = (d: Buffer): void => {
            got += d.length;
            if (got >= 64 << 10) c.sock.pause();
          };
          c.sock.on('data', take);
          c.sock.resume();
          await until(() => got >= 64 << 10 && toPeer(c.channel) < before, 5000, 'the client reading some');
          c.sock.pause();
          c.sock.off('data', take);
          clock.advance(3.1);
          expect(c.lost()).toBeNull();
        }
        expect(unsent(c.channel)).toBeGreaterThan(0);
        clock.advance(3.1); // it took nothing in this window
        await aborted(c);
      });

      it('with abortTimeout null, waits for the flush however long it takes', async () => {
        const port = serve({ reactor: clock, timeout: 5, abortTimeout: null });
        const c = await deaf(port, 'GET /huge HTTP/1.1\r\n\r\n');
        clock.advance(5.1);
        expect(c.channel['closing']).toBe(true);
        clock.advance(3600);
        expect(clock.getDelayedCalls()).toHaveLength(0);
        expect(c.lost()).toBeNull();
        expect(c.channel.connected).toBe(true);
      });
    });
  });

  describe('timeouts on a task.Clock', () => {
    let clock: Clock;
    beforeEach(() => (clock = new Clock()));

    it('closes an idle keep-alive connection after the timeout', async () => {
      const port = serve({ reactor: clock, timeout: 5 });
      const before = echoed;
      const got = raw(port, 'GET /echo HTTP/1.1\r\n\r\n');
      await until(() => echoed === before + 1, 5000, 'the first response');
      clock.advance(4.9);
      expect(channels[0].connected).toBe(true);
      clock.advance(0.2);
      const res = await got;
      expect(res.closed).toBe(true);
      expect(responses(res.data).map((x) => x.status)).toEqual([200]);
    });

    it('re-arms its timer after the clock cancelled it (as reactor.stop does)', async () => {
      const port = serve({ reactor: clock, timeout: 5 });
      const before = echoed;
      const got = raw(port, ['GET /echo HTTP/1.1\r\n\r\n']);
      await until(() => echoed === before + 1, 5000, 'the first response');
      for (const call of clock.getDelayedCalls()) call.cancel();
      channels[0].dataReceived(Buffer.from('GET /echo HTTP/1.1\r\n\r\n'));
      clock.advance(5.1);
      const res = await got;
      expect(res.closed).toBe(true);
    });

    it('answers 408 to a stalled body only after the response before it', async () => {
      const port = serve({ reactor: clock, timeout: 5 });
      const got = raw(port, 'GET /slow HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nab');
      await until(() => slow.waiting.length === 1 && channels.length === 1 && channels[0]['current'] !== null, 5000, 'the stalled body');
      clock.advance(5.1);
      slow.waiting[0].write('first');
      slow.waiting[0].finish();
      const res = await got;
      expect(responses(res.data).map((x) => [x.status, x.body])).toEqual([
        [200, 'first'],
        [408, 'Request Timeout\n'],
      ]);
      expect(res.closed).toBe(true);
    });

    it('answers 408 to a body still trickling in requestTimeout after its head, though no gap reached the timeout', async () => {
      const port = serve({ reactor: clock, timeout: 5, requestTimeout: 12 });
      const sock = net.connect(port, '127.0.0.1');
      let data = '';
      sock.on('data', (d: Buffer) => (data += d.toString('latin1')));
      sock.on('error', () => undefined);
      const closed = new Promise((resolve) => sock.on('close', resolve));
      sock.write('POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\n');
      await until(() => channels.length === 1 && channels[0]['current'] !== null, 5000, 'the head');
      let sent = 0;
      for (let i = 0; i < 3; i++) {
        // One byte every 4 s: each gap is under the 5 s timeout.
        sock.write('x');
        sent++;
        await until(() => channels[0]['body'].length === sent, 5000, 'a body byte');
        clock.advance(4);
      }
      expect(data).toBe('');
      clock.advance(0.1); // 12.1 s after the head
      await closed;
      expect(data).toMatch(/^HTTP\/1\.1 408 /);
      sock.destroy();
    });

    it('lets an Upgrade request answered as plain HTTP take longer than the timeout (an h2c long poll), as any answer may', async () => {
      const port = serve({ reactor: clock, timeout: 5 });
      const got = raw(port, 'GET /slow/up HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n', (d) => d.endsWith('0\r\n\r\n'));
      await until(() => slow.waiting.length === 1, 5000, 'the Upgrade request');
      const req = slow.waiting[0];
      req.write('first ');
      clock.advance(60);
      expect(channels[0].connected).toBe(true);
      req.write('and last');
      req.finish();
      const res = await got;
      expect(res.closed).toBe(false);
      expect(res.data).toMatch(/^HTTP\/1\.1 200 /);
      expect(res.data).toContain('first ');
      expect(res.data).toContain('and last');
    });

    it('answers 408 to a head still trickling in at the timeout, however recently a byte came', async () => {
      const port = serve({ reactor: clock, timeout: 5 });
      const got = raw(port, 'GET /echo HTTP/1.1\r\nX: 1\r\n', (d) => d.length > 0 && false);
      await until(() => channels.length === 1 && !channels[0]['parser'].betweenMessages, 5000, 'a partial head');
      clock.advance(3);
      clock.advance(2.1);
      const res = await got;
      expect(res.data).toMatch(/^HTTP\/1\.1 408 /);
      expect(res.closed).toBe(true);
    });
  });
});
