/**
 * The server side of RFC 6455 against a raw client that breaks the rules on
 * purpose, on every backend: the handshake's answers, fragmentation, UTF-8
 * across fragments, control frames, limits, the close handshake, auto-ping,
 * and that one connection's errors leave the others alone.
 */
import * as net from 'net';
import type { Reactor } from '../lib/reactor';
import { Clock } from '../lib/task';
import { ConnectionRequest } from '../lib/websocket';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { captureLog, until } from './helpers/tcp';
import { EchoServer, serveEcho } from './helpers/websocket';
import { clientFrame, closeBody, handshake, RawClient } from './helpers/ws-raw';

jest.setTimeout(20000);

forEachBackend('websocket: server', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  const clients: RawClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.destroy();
  });
  function raw(port: number, request: string | null = null, extra?: Buffer): RawClient {
    const c = new RawClient(port, request, extra);
    clients.push(c);
    return c;
  }

  it('answers a valid handshake with 101 and the RFC sample accept key; frames sent with the request are read', async () => {
    const { port, log } = serveEcho(r);
    const c = raw(port, null, clientFrame(1, 'early'));
    await until(() => c.frames.length === 1);
    expect(c.head).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(c.head).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
    expect(c.frames[0].payload.toString()).toBe('early');
    expect(log.opened).toBe(1);
  });

  it('an Upgrade request to a plain resource is answered as HTTP, and the request pipelined behind it too', async () => {
    const { port } = serveEcho(r);
    const req = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n';
    const sock = net.connect(port, '127.0.0.1');
    let got = '';
    sock.on('data', (d: Buffer) => (got += d.toString('latin1')));
    sock.write(req + 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    try {
      await until(() => got.split('<p>hi</p>').length === 3, 5000, 'two answers');
    } finally {
      sock.destroy();
    }
    expect(got.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  });

  it.each([
    ['a plain GET', 'GET /ws HTTP/1.1\r\nHost: x\r\n\r\n', /^HTTP\/1\.1 426 /],
    ['version 8', handshake('/ws').replace('Version: 13', 'Version: 8'), /^HTTP\/1\.1 426 [^]*Sec-WebSocket-Version: 13/i],
    ['no key', handshake('/ws').replace(/Sec-WebSocket-Key: .*\r\n/, ''), /^HTTP\/1\.1 400 /],
    ['a short key', handshake('/ws').replace(/Sec-WebSocket-Key: .*\r\n/, 'Sec-WebSocket-Key: abc\r\n'), /^HTTP\/1\.1 400 /],
    ['no Connection: Upgrade', handshake('/ws').replace('Connection: Upgrade', 'Connection: keep-alive'), /^HTTP\/1\.1 400 /],
    ['a POST', handshake('/ws').replace('GET', 'POST'), /^HTTP\/1\.1 405 /],
    ['a refused origin', handshake('/ws', ['Origin: http://evil.example']), /^HTTP\/1\.1 403 /],
  ])('refuses %s with the right status', async (_what, request, status) => {
    const { port, log } = serveEcho(r);
    const c = raw(port, request);
    await until(() => c.ended, 5000, 'the server to close');
    expect(c.head).toMatch(status);
    expect(log.opened).toBe(0);
  });

  it('reassembles a fragmented text message whose character spans fragments, answering a ping in between', async () => {
    const { port, log } = serveEcho(r);
    const text = Buffer.from('a€b'); // € is 3 bytes: split it
    const c = raw(port);
    c.send(Buffer.concat([clientFrame(1, text.subarray(0, 2), { fin: false }), clientFrame(9, 'p1'), clientFrame(0, text.subarray(2, 3), { fin: false })]));
    c.send(clientFrame(0, text.subarray(3), { fin: true }));
    await until(() => c.frames.length === 2);
    expect(c.frames[0]).toEqual({ fin: true, rsv1: false, opcode: 10, payload: Buffer.from('p1') });
    expect(c.frames[1].payload.toString()).toBe('a€b');
    expect(log.messages).toEqual([['a€b', false]]);
  });

  it('fails fast with 1007 on invalid UTF-8 in a fragment, before the message ends', async () => {
    const { port, log } = serveEcho(r);
    const c = raw(port);
    c.send(clientFrame(1, Buffer.from([0x61, 0xed, 0xa0]), { fin: false })); // a surrogate's prefix
    await until(() => c.ended, 5000, 'the server to close');
    expect(c.closeCode()).toBe(1007);
    await until(() => log.closes.length === 1);
    expect(log.closes[0][0]).toBe(false);
    expect(log.closes[0][1]).toBe(1006);
  });

  const violations: Array<[string, Buffer, number]> = [
    ['an unmasked frame', clientFrame(1, 'x', { mask: false }), 1002],
    ['RSV bits without an extension', clientFrame(1, 'x', { rsv: 4 }), 1002],
    ['a reserved opcode', clientFrame(3, 'x'), 1002],
    ['a fragmented ping', clientFrame(9, 'x', { fin: false }), 1002],
    ['a ping over 125 bytes', clientFrame(9, Buffer.alloc(126)), 1002],
    ['a continuation with nothing to continue', clientFrame(0, 'x'), 1002],
    ['a new message inside a fragmented one', Buffer.concat([clientFrame(1, 'a', { fin: false }), clientFrame(1, 'b')]), 1002],
    ['a close code 1005', clientFrame(8, closeBody(1005)), 1002],
    ['a close payload of 1 byte', clientFrame(8, Buffer.from([3])), 1002],
    ['a close reason that is not UTF-8', clientFrame(8, Buffer.concat([closeBody(1000), Buffer.from([0xff])])), 1007],
    ['invalid UTF-8 text', clientFrame(1, Buffer.from([0xc0, 0x80])), 1007],
    ['a frame over maxFramePayloadSize', clientFrame(2, Buffer.alloc(1001)), 1009],
    ['a message over maxMessagePayloadSize', Buffer.concat([clientFrame(2, Buffer.alloc(800), { fin: false }), clientFrame(0, Buffer.alloc(800))]), 1009],
  ];
  it.each(violations)('closes with the right code on %s; other connections go on', async (_what, bytes, code) => {
    const { port, log } = serveEcho(r, { maxMessagePayloadSize: 1000 });
    const good = raw(port);
    const bad = raw(port);
    await until(() => log.opened === 2);
    bad.send(bytes);
    await until(() => bad.ended, 5000, 'the server to close');
    expect(bad.closeCode()).toBe(code);
    good.send(clientFrame(1, 'still here'));
    await until(() => good.frames.length === 1);
    expect(good.frames[0].payload.toString()).toBe('still here');
  });

  it('a clean close started by the client: the server echoes it and closes TCP', async () => {
    const { port, log } = serveEcho(r);
    const c = raw(port);
    c.send(clientFrame(8, closeBody(1001, 'going')));
    await until(() => c.ended, 5000, 'the server to close');
    expect(c.closeCode()).toBe(1001);
    await until(() => log.closes.length === 1);
    expect(log.closes[0]).toEqual([true, 1001, 'going']);
  });

  it('an exception in onMessage drops that connection only, and is logged', async () => {
    const cap = captureLog();
    try {
      const { port, factory } = serveEcho(r);
      class Throws extends EchoServer {
        override onMessage(payload: Buffer, isBinary: boolean): void {
          if (payload.toString() === 'boom') throw new Error('boom in onMessage');
          super.onMessage(payload, isBinary);
        }
      }
      factory.protocol = Throws as never;
      const bad = raw(port);
      const good = raw(port);
      bad.send(clientFrame(1, 'boom'));
      await until(() => bad.ended, 5000, 'the bad connection to drop');
      good.send(clientFrame(1, 'ok'));
      await until(() => good.frames.length === 1);
      expect(cap.events.some((e) => e.failure !== undefined && String(e.failure.value).includes('boom in onMessage'))).toBe(true);
    } finally {
      cap.stop();
    }
  });

  it.each([
    ['a header that would split the response', [null, { 'X-Bad': 'a\r\nInjected: 1' }], /CR, LF/],
    ['a subprotocol the client did not offer', 'nope', /did not offer/],
    ['a throw that is not ConnectionDeny', new Error('onConnect broke'), /onConnect broke/],
  ])('onConnect answering %s gets a logged 500, no upgrade', async (_what, answer, logged) => {
    const cap = captureLog();
    try {
      const { port, factory, log } = serveEcho(r);
      class Bad extends EchoServer {
        override onConnect(): never {
          if (answer instanceof Error) throw answer;
          return answer as never;
        }
      }
      factory.protocol = Bad as never;
      const c = raw(port);
      await until(() => c.ended, 5000, 'the server to close');
      expect(c.head).toMatch(/^HTTP\/1\.1 500 /);
      expect(log.opened).toBe(0);
      expect(cap.events.some((e) => e.failure !== undefined && logged.test(String(e.failure.value)))).toBe(true);
    } finally {
      cap.stop();
    }
  });

  it('onConnect may answer later (a Promise); bytes sent meanwhile are kept', async () => {
    const { port, factory, log } = serveEcho(r);
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    class Later extends EchoServer {
      override onConnect(request: ConnectionRequest): string | null {
        return gate.then(() => super.onConnect(request)) as unknown as string;
      }
    }
    factory.protocol = Later as never;
    const c = raw(port, null, clientFrame(1, 'queued'));
    await until(() => log.origins.length === 0 && c.socket.bytesWritten > 0);
    c.send(clientFrame(1, 'second'));
    await new Promise((res) => setImmediate(res));
    release();
    await until(() => c.frames.length === 2);
    expect(c.frames.map((f) => f.payload.toString())).toEqual(['queued', 'second']);
  });

  it('auto-ping: a peer that answers stays, one that does not is dropped after autoPingTimeout', async () => {
    const clock = new Clock();
    const { port, log } = serveEcho(r, { reactor: clock, autoPingInterval: 10, autoPingTimeout: 5 });
    const c = raw(port);
    await until(() => log.opened === 1);
    clock.advance(10);
    await until(() => c.frames.length === 1);
    expect(c.frames[0].opcode).toBe(9);
    c.send(clientFrame(10, c.frames[0].payload));
    c.send(clientFrame(1, 'sync'));
    await until(() => c.frames.length === 2);
    clock.advance(5); // the pong came: no drop
    clock.advance(5); // the next ping
    await until(() => c.frames.length === 3);
    expect(c.frames[2].opcode).toBe(9);
    expect(c.ended).toBe(false);
    clock.advance(5); // no pong this time
    await until(() => c.ended, 5000, 'the dead peer to be dropped');
    await until(() => log.closes.length === 1);
    expect(log.closes[0][0]).toBe(false);
    expect(log.closes[0][2]).toMatch(/auto-ping/);
  });

  it('a failing peer that does not read what it is sent is aborted after closeHandshakeTimeout', async () => {
    const clock = new Clock();
    // A high-water mark above the 8 MiB it queues: past the mark the server would stop reading (websocket-flood.test.ts) and never see the error.
    r.highWaterMark = 64 * 1024 * 1024;
    const { port, log } = serveEcho(r, { reactor: clock, closeHandshakeTimeout: 2 });
    const c = raw(port);
    await until(() => log.opened === 1);
    c.socket.pause();
    const big = clientFrame(2, Buffer.alloc(1 << 20, 1));
    for (let i = 0; i < 8; i++) c.send(big); // 8 MiB of echoes the client never reads
    c.send(clientFrame(1, 'x', { mask: false })); // then a protocol error
    await until(() => log.messages.length === 8, 10000, 'the echoes to be queued');
    await new Promise((res) => setImmediate(res));
    expect(log.closes).toEqual([]); // loseConnection waits for the buffer to drain, which never happens
    clock.advance(2);
    await until(() => log.closes.length === 1, 5000, 'the abort');
    expect(log.closes[0][0]).toBe(false);
    c.destroy(); // paused, it may not have seen the reset yet
  });

  it('sendClose: a peer that never answers the close is dropped after closeHandshakeTimeout', async () => {
    const clock = new Clock();
    const { port, log } = serveEcho(r, { reactor: clock, closeHandshakeTimeout: 2 });
    const c = raw(port);
    c.send(clientFrame(1, 'close-me'));
    await until(() => c.frames.length === 1);
    expect(c.closeCode()).toBe(4000);
    clock.advance(2);
    await until(() => c.ended, 5000, 'the drop');
    await until(() => log.closes.length === 1);
    expect(log.closes[0][0]).toBe(false);
  });
});
