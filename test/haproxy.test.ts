/**
 * The `haproxy:` endpoint over real sockets, every backend: the wrapped
 * protocol sees only the bytes after the header, getPeer/getHost and the
 * factory's address are the carried ones, a header split across reads works,
 * and a bad header drops only its own connection, logged once.
 */
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { IAddress, IPv4Address, IPv6Address } from '../lib/address';
import { EndpointDescriptionError, serverFromString, HAProxyServerEndpoint, TCP4ServerEndpoint } from '../lib/endpoints';
import type { IListeningPort } from '../lib/interfaces';
import { HAProxyProtocol, HAProxyWrappingFactory } from '../lib/protocols/haproxy/wrapper';
import { Factory } from '../lib/protocol';
import { Clock } from '../lib/task/clock';
import type { Reactor } from '../lib/reactor';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { v1, v2 } from './helpers/proxy-header';
import { captureLog, Echo, keeping, until } from './helpers/tcp';

jest.setTimeout(15000);

const client = { host: '203.0.113.9', port: 40001 };
const front = { host: '198.51.100.2', port: 443 };

/** A Node client: connects, writes each chunk (after `between` resolves for it), collects until close. */
function talk(where: net.NetConnectOpts, chunks: Buffer[], between: (i: number) => Promise<void> = async () => {}): Promise<{ got: Buffer; local: number }> {
  return new Promise((resolve, reject) => {
    const got: Buffer[] = [];
    let local = 0;
    const sock = net.connect(where, async () => {
      local = sock.localPort ?? 0;
      for (let i = 0; i < chunks.length; i++) {
        await between(i);
        sock.write(chunks[i]);
      }
    });
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('close', () => resolve({ got: Buffer.concat(got), local }));
    sock.on('error', (e: NodeJS.ErrnoException) => (e.code === 'ECONNRESET' ? undefined : reject(e)));
  });
}

/** An echo protocol that closes after `n` bytes, so a client's talk() ends. */
class EchoThenClose extends Echo {
  override dataReceived(data: Buffer): void {
    super.dataReceived(data);
    if (this.bytes.length >= 4) this.transport.loseConnection();
  }
}

/** The header readers `wrapper` builds, in order, as it builds them. */
function headerReaders(wrapper: HAProxyWrappingFactory): HAProxyProtocol[] {
  const readers: HAProxyProtocol[] = [];
  const build = wrapper.buildProtocol.bind(wrapper);
  wrapper.buildProtocol = (a) => {
    const h = build(a) as HAProxyProtocol;
    readers.push(h);
    return h;
  };
  return readers;
}

forEachBackend('haproxy: endpoint', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (x) => (r = x), () => r);
  let port: IListeningPort;
  afterEach(async () => {
    await port?.stopListening();
  });

  async function listen(f: Factory, description = 'haproxy:tcp:0:interface=127.0.0.1'): Promise<number> {
    port = await serverFromString(r, description).listen(f);
    return (port.getHost() as IPv4Address).port;
  }

  it('v1: the protocol sees the bytes after the header and the carried addresses', async () => {
    const f = keeping(EchoThenClose);
    const addrs: IAddress[] = [];
    const build = f.buildProtocol.bind(f);
    f.buildProtocol = (a) => (addrs.push(a), build(a));
    const p = await listen(f);
    const { got } = await talk({ port: p, host: '127.0.0.1' }, [Buffer.concat([v1(client, front), Buffer.from('ping')])]);
    expect(got.toString()).toBe('ping');
    const t = f.built[0].transport;
    expect(t.getPeer()).toEqual(new IPv4Address('TCP', client.host, client.port));
    expect(t.getHost()).toEqual(new IPv4Address('TCP', front.host, front.port));
    expect(addrs).toEqual([new IPv4Address('TCP', client.host, client.port)]);
  });

  it('v2 with TLVs, split across reads at every part of the header', async () => {
    const f = keeping(EchoThenClose);
    const wrapper = new HAProxyWrappingFactory(f);
    const readers = headerReaders(wrapper);
    port = await new TCP4ServerEndpoint(r, 0, { interface: '127.0.0.1' }).listen(wrapper);
    const p = (port.getHost() as IPv4Address).port;
    const six = { host: '2001:db8::5', port: 1234 };
    const header = v2(six, { host: '2001:db8::1', port: 80 }, { tlvs: Buffer.from([0x04, 0x00, 0x01, 0x7a]) });
    const cuts = [3, 12, 15, 30, header.length];
    const chunks = cuts.map((c, i) => header.subarray(i === 0 ? 0 : cuts[i - 1], c));
    chunks.push(Buffer.from('pong'));
    // Each chunk goes out once the server holds all before it: one read per chunk.
    let sent = 0;
    const { got } = await talk({ port: p, host: '127.0.0.1' }, chunks, async (i) => {
      if (i > 0 && i < chunks.length - 1) {
        sent += chunks[i - 1].length;
        await until(() => readers.length === 1 && readers[0].heldBytes === sent, 5000, `the server to hold ${sent} bytes`);
      }
    });
    expect(got.toString()).toBe('pong');
    expect(f.built[0].transport.getPeer()).toEqual(new IPv6Address('TCP', '2001:db8::5', 1234));
    expect(readers[0].header?.version).toBe(2);
  });

  it('LOCAL (a health check) keeps the connection\'s own addresses', async () => {
    const f = keeping(EchoThenClose);
    const p = await listen(f);
    const { got, local } = await talk({ port: p, host: '127.0.0.1' }, [Buffer.concat([v2(client, front, { local: true }), Buffer.from('ping')])]);
    expect(got.toString()).toBe('ping');
    expect(f.built[0].transport.getPeer()).toEqual(new IPv4Address('TCP', '127.0.0.1', local));
  });

  it.each([
    ['a missing header', Buffer.from('GET / HTTP/1.1\r\n\r\n'), /no PROXY protocol header/],
    ['a malformed v1 header', Buffer.from('PROXY TCP4 1.2.3.4 nowhere 1 2\r\nping'), /not TCP4/],
    ['an over-long v1 header', Buffer.from(`PROXY UNKNOWN ${'y'.repeat(200)}\r\n`), /longer than 107/],
    ['a v2 header of another version', Buffer.concat([v2(client, front).subarray(0, 12), Buffer.from([0x31, 0x11, 0, 12]), Buffer.alloc(12)]), /version 3/],
  ])('%s drops that connection only, logged once', async (_what, bytes, why) => {
    const f = keeping(Echo);
    const p = await listen(f);
    const good = new net.Socket();
    const goodGot: Buffer[] = [];
    good.on('data', (d: Buffer) => goodGot.push(d));
    await new Promise<void>((res) => good.connect(p, '127.0.0.1', res));
    good.write(v1(client, front));
    await until(() => f.built.length === 1, 5000, 'the good connection');
    const logs = captureLog();
    try {
      const { got } = await talk({ port: p, host: '127.0.0.1' }, [bytes]);
      expect(got.length).toBe(0);
      const warns = logs.events.filter((e) => e.level === 'warn');
      expect(warns).toHaveLength(1);
      expect(warns[0].message).toMatch(why);
      expect(warns[0].message).toMatch(/127\.0\.0\.1/);
    } finally {
      logs.stop();
    }
    expect(f.built).toHaveLength(1); // the wrapped factory never saw the bad one
    good.write('still here');
    await until(() => Buffer.concat(goodGot).toString() === 'still here', 5000, 'the good connection to echo');
    good.destroy();
  });

  it('haproxy:unix: carries TCP addresses over a UNIX socket', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ioreactor-haproxy-'));
    try {
      const sock = path.join(dir, 's');
      const f = keeping(EchoThenClose);
      port = await serverFromString(r, `haproxy:unix:${sock}:lockfile=0`).listen(f);
      const { got } = await talk({ path: sock }, [Buffer.concat([v1(client, front), Buffer.from('unix')])]);
      expect(got.toString()).toBe('unix');
      expect(f.built[0].transport.getPeer()).toEqual(new IPv4Address('TCP', client.host, client.port));
      await port.stopListening();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('descriptions: haproxy: wraps one other endpoint', () => {
    expect(serverFromString(r, 'haproxy:tcp:0')).toBeInstanceOf(HAProxyServerEndpoint);
    expect(() => serverFromString(r, 'haproxy:haproxy:tcp:0')).toThrow(EndpointDescriptionError);
    expect(() => serverFromString(r, 'haproxy:')).toThrow(EndpointDescriptionError);
  });

  it('a header not complete within headerTimeout drops the connection, logged once', async () => {
    const f = keeping(Echo);
    port = await new TCP4ServerEndpoint(r, 0, { interface: '127.0.0.1' }).listen(new HAProxyWrappingFactory(f, null, 0.05, r));
    const p = (port.getHost() as IPv4Address).port;
    const logs = captureLog();
    try {
      const { got } = await talk({ port: p, host: '127.0.0.1' }, [Buffer.from('PROXY TCP4 1.2.3.4')]);
      expect(got.length).toBe(0);
      expect(logs.events.map((e) => [e.level, e.message])).toEqual([['warn', expect.stringMatching(/no complete header within 0.05 s/)]]);
    } finally {
      logs.stop();
    }
    expect(f.built).toHaveLength(0);
    expect(() => new HAProxyWrappingFactory(f, null, 0)).toThrow(TypeError);
  });

  it('the header timeout runs on the given clock: due only when it advances, gone once the header is whole', async () => {
    const f = keeping(EchoThenClose);
    const clock = new Clock();
    const wrapper = new HAProxyWrappingFactory(f, null, 5, clock);
    const readers = headerReaders(wrapper);
    port = await new TCP4ServerEndpoint(r, 0, { interface: '127.0.0.1' }).listen(wrapper);
    const p = (port.getHost() as IPv4Address).port;
    const logs = captureLog();
    try {
      // A slow client: half a header, then the clock passes 5 s (real time does not).
      const slow = talk({ port: p, host: '127.0.0.1' }, [Buffer.from('PROXY TCP4 1.2.3.4')]);
      await until(() => readers.length === 1 && readers[0].heldBytes > 0, 5000, 'the first header bytes');
      expect(clock.getDelayedCalls()).toHaveLength(1);
      clock.advance(4.9);
      expect(readers[0].connected).toBe(true);
      clock.advance(0.1);
      expect((await slow).got.length).toBe(0);
      expect(logs.events.map((e) => e.message)).toEqual([expect.stringMatching(/no complete header within 5 s/)]);
      // A whole header in time leaves nothing scheduled.
      const { got } = await talk({ port: p, host: '127.0.0.1' }, [Buffer.concat([v1(client, front), Buffer.from('ping')])]);
      expect(got.toString()).toBe('ping');
      expect(clock.getDelayedCalls()).toHaveLength(0);
    } finally {
      logs.stop();
    }
  });

  it('a wrapped factory that refuses (null) closes the connection', async () => {
    const f = new Factory();
    f.buildProtocol = () => null;
    port = await new HAProxyServerEndpoint(new TCP4ServerEndpoint(r, 0, { interface: '127.0.0.1' })).listen(f);
    const p = (port.getHost() as IPv4Address).port;
    const { got } = await talk({ port: p, host: '127.0.0.1' }, [v1(client, front)]);
    expect(got.length).toBe(0);
  });
});
