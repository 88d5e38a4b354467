/**
 * Whole responses remembered and sent again (web/response-cache.ts): the
 * same bytes for the same response, and never a remembered response where
 * anything that made it differs (body bytes changed in place, a field, the
 * status, the framing the request asks for, the second of the Date line).
 * Driven without sockets: an HTTPChannel on a transport that records writes.
 */
import { Resource, Site } from '../lib/web';
import type { Request } from '../lib/web';
import type { HTTPChannel } from '../lib/web/channel';
import { Clock } from '../lib/task';

/** A channel for `root` whose writes land in the returned array. */
function connect(root: Resource): { channel: HTTPChannel; writes: Buffer[] } {
  const writes: Buffer[] = [];
  const transport = {
    write(d: Buffer): void {
      writes.push(d);
    },
    writeSequence(ds: Buffer[]): void {
      writes.push(...ds);
    },
    loseConnection(): void {},
    getPeer: () => null,
    getHost: () => null,
  };
  const channel = new Site(root, { reactor: new Clock() }).buildProtocol(null as never);
  channel.makeConnection(transport as never);
  return { channel, writes };
}

/** Feeds one request (GET / HTTP/1.1 unless given) and returns the one write it made, as latin1. */
function ask(c: { channel: HTTPChannel; writes: Buffer[] }, head = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'): Buffer {
  const before = c.writes.length;
  c.channel.dataReceived(Buffer.from(head, 'latin1'));
  expect(c.writes.length).toBe(before + 1);
  return c.writes[before];
}

/** A leaf resource whose render_GET is `fn`. */
function leaf(fn: (request: Request) => Buffer | string): Resource {
  const r = new Resource();
  r.isLeaf = true;
  (r as unknown as { render_GET: typeof fn }).render_GET = fn;
  return r;
}

describe('web: remembered responses', () => {
  // First in the file: date.ts keeps the line of the second until a timer marks it stale, and that timer must be a fake one.
  it('moves to a new Date line when the second turns', () => {
    jest.useFakeTimers({ now: Date.UTC(2026, 11, 5, 4, 0, 0, 500) });
    try {
      const c = connect(leaf(() => 'x'));
      const a = ask(c);
      expect(a.toString('latin1')).toContain('Date: Sat, 05 Dec 2026 04:00:00 GMT\r\n');
      jest.advanceTimersByTime(600);
      const b = ask(c);
      expect(b.toString('latin1')).toContain('Date: Sat, 05 Dec 2026 04:00:01 GMT\r\n');
      expect(ask(c)).toBe(b);
    } finally {
      jest.useRealTimers();
    }
  });

  it('answers the same response with the same bytes, and the same Buffer', () => {
    const body = Buffer.from('hello world\n');
    const c = connect(leaf((request) => (request.setHeader('Content-Type', 'text/plain'), body)));
    const a = ask(c);
    const b = ask(c);
    expect(b).toBe(a);
    const text = a.toString('latin1');
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Type: text\/plain\r\nDate: [^\r]+ GMT\r\nContent-Length: 12\r\n\r\nhello world\n$/);
  });

  it('sends the new bytes of a body Buffer changed in place', () => {
    const body = Buffer.from('one\n');
    const c = connect(leaf(() => body));
    expect(ask(c).toString('latin1')).toMatch(/\r\n\r\none\n$/);
    body.write('two\n');
    expect(ask(c).toString('latin1')).toMatch(/\r\n\r\ntwo\n$/);
    body.write('one\n');
    expect(ask(c).toString('latin1')).toMatch(/\r\n\r\none\n$/);
  });

  it('tells apart responses that differ in a field, the status, or a string body', () => {
    let type = 'text/plain';
    let code = 200;
    let text = 'a';
    let extra = false;
    const c = connect(
      leaf((request) => {
        request.setHeader('Content-Type', type);
        if (extra) request.setHeader('X-Extra', '1');
        request.setResponseCode(code);
        return text;
      }),
    );
    const seen = new Set<string>();
    const step = (): string => {
      const out = ask(c).toString('latin1').replace(/Date: [^\r]+\r\n/, '');
      expect(seen.has(out)).toBe(false);
      seen.add(out);
      return out;
    };
    expect(step()).toBe('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1\r\n\r\na');
    type = 'text/html';
    expect(step()).toContain('Content-Type: text/html\r\n');
    code = 201;
    expect(step()).toMatch(/^HTTP\/1\.1 201 Created\r\n/);
    text = 'héllo';
    expect(step()).toMatch(/Content-Length: 6\r\n\r\nh\xc3\xa9llo$/);
    extra = true;
    expect(step()).toContain('X-Extra: 1\r\n');
  });

  it('frames by the request: HTTP/1.0, keep-alive, Connection: close', () => {
    const c = connect(leaf(() => 'x'));
    expect(ask(c).toString('latin1')).not.toContain('Connection:');
    expect(ask(c, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').toString('latin1')).toContain('Connection: keep-alive\r\n');
    expect(ask(c).toString('latin1')).not.toContain('Connection:');
    expect(ask(c, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n').toString('latin1')).toContain('Connection: close\r\n');
    const d = connect(leaf(() => 'x'));
    expect(ask(d, 'GET / HTTP/1.0\r\n\r\n').toString('latin1')).toContain('Connection: close\r\n');
  });

  it('answers HEAD with the head alone, after a GET of the same resource was remembered', () => {
    const c = connect(leaf(() => 'hello'));
    expect(ask(c).toString('latin1')).toMatch(/Content-Length: 5\r\n\r\nhello$/);
    expect(ask(c, 'HEAD / HTTP/1.1\r\n\r\n').toString('latin1')).toMatch(/Content-Length: 5\r\n\r\n$/);
  });

  it('does not remember a response whose Connection or Content-Length the application set (its framing)', () => {
    const c = connect(leaf((request) => (request.setHeader('Connection', 'close'), 'bye')));
    expect(ask(c).toString('latin1')).toMatch(/Connection: close\r\n\r\nbye$/);
    const d = connect(leaf((request) => (request.setHeader('Content-Length', 3), 'abc')));
    const out = ask(d).toString('latin1');
    expect(out.match(/Content-Length/g)).toHaveLength(1);
    expect(ask(d)).not.toBe(ask(d));
  });

  it('setHeader replaces a field whatever its case, and responseHeaders shows what was set', () => {
    let fields: [string, string[]][] = [];
    const c = connect(
      leaf((request) => {
        request.setHeader('X-A', '1');
        request.setHeader('x-b', '2');
        request.setHeader('x-a', '3');
        fields = [...request.responseHeaders.getAllRawHeaders()].map(([n, v]) => [n, v.slice()]);
        request.responseHeaders.addRawHeader('X-B', '4');
        return '';
      }),
    );
    expect(ask(c).toString('latin1')).toMatch(/^HTTP\/1\.1 200 OK\r\nX-A: 3\r\nX-B: 2\r\nX-B: 4\r\n/);
    expect(fields).toEqual([['x-a', ['3']], ['x-b', ['2']]]);
  });

  it('answers a body longer than it keeps, the same each time, in new Buffers', () => {
    const big = Buffer.alloc(4096, 0x61);
    const c = connect(leaf(() => big));
    const a = ask(c);
    const b = ask(c);
    expect(b).not.toBe(a);
    expect(b.equals(a)).toBe(true);
    expect(a.subarray(a.length - 4096).equals(big)).toBe(true);
  });
});
