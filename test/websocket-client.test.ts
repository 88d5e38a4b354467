/**
 * Our WebSocket client, on every backend: against the `ws` package's server
 * (echo, subprotocol, closes from either side), against our own server over
 * wss:// (connectSSL with optionsForClientTLS), and a refused handshake.
 */
import { spawn } from 'child_process';
import * as http from 'http';
import type { AddressInfo } from 'net';
import { WebSocketServer } from 'ws';
import type { IPv4Address } from '../lib/address';
import type { Reactor } from '../lib/reactor';
import { CertificateOptions, optionsForClientTLS } from '../lib/tls';
import { Resource, Site } from '../lib/web';
import { connectWS, listenWS, ConnectionResponse, WebSocketClientFactory, WebSocketClientProtocol, WebSocketOptions, WebSocketResource, WebSocketServerFactory } from '../lib/websocket';
import { Factory, Protocol } from '../lib/protocol';
import { Clock } from '../lib/task';
import { acceptKey } from '../lib/websocket/handshake';
import { forEachBackend, reactorPerTest } from './helpers/backends';
import { makeCerts, TestCerts } from './helpers/certs';
import { until } from './helpers/tcp';
import { echoFactory } from './helpers/websocket';

jest.setTimeout(20000);

/** Records everything a client connection sees. */
class Recorder extends WebSocketClientProtocol {
  static last: Recorder | null = null;
  opened = false;
  chosen: string | null = null;
  messages: Array<[string, boolean]> = [];
  closed: [boolean, number, string] | null = null;
  override onConnect(response: ConnectionResponse): void {
    this.chosen = response.protocol;
  }
  override onOpen(): void {
    Recorder.last = this;
    this.opened = true;
  }
  override onMessage(payload: Buffer, isBinary: boolean): void {
    this.messages.push([isBinary ? payload.toString('hex') : payload.toString(), isBinary]);
  }
  override onClose(wasClean: boolean, code: number, reason: string): void {
    this.closed = [wasClean, code, reason];
  }
}

function clientFactory(r: Reactor, url: string, opts: WebSocketOptions = {}): WebSocketClientFactory {
  const f = new WebSocketClientFactory(url, { reactor: r, ...opts });
  f.protocol = Recorder as never;
  return f;
}

let certs: TestCerts;
beforeAll(() => (certs = makeCerts()));
afterAll(() => certs.cleanup?.());

describe('websocket: the built package', () => {
  it('has the names at run time, as a JavaScript user gets them (no const enums)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pkg = require('../dist/index.js') as Record<string, unknown>;
    for (const name of ['WebSocketServerProtocol', 'WebSocketServerFactory', 'WebSocketResource', 'WebSocketClientProtocol', 'WebSocketClientFactory', 'connectWS', 'listenWS', 'broadcast', 'ConnectionDeny']) {
      expect(typeof pkg[name]).toBe('function');
    }
    expect((pkg.WebSocketState as Record<string, number>).Open).toBe(1);
  });
});

forEachBackend('websocket: client', (backend) => {
  let r: Reactor;
  reactorPerTest(backend, (reactor) => (r = reactor), () => r);
  let server: http.Server | null = null;
  let wss: WebSocketServer | null = null;
  /** Closes the ws server and its connections (before the fd check of reactorPerTest). */
  async function stopWs(): Promise<void> {
    wss?.close();
    for (const c of wss?.clients ?? []) c.terminate();
    if (server !== null) await new Promise((res) => server!.close(res));
    server = null;
    wss = null;
  }

  function wsServer(onConnection: (c: import('ws').WebSocket) => void): Promise<number> {
    server = http.createServer();
    wss = new WebSocketServer({ server, handleProtocols: (p) => (p.has('chat') ? 'chat' : false) });
    wss.on('connection', onConnection);
    return new Promise((res) => server!.listen(0, '127.0.0.1', () => res((server!.address() as AddressInfo).port)));
  }

  it('against the ws server: echo, the subprotocol, and a clean close from our side', async () => {
    const port = await wsServer((c) => c.on('message', (d, isBinary) => c.send(d, { binary: isBinary })));
    Recorder.last = null;
    connectWS(clientFactory(r, `ws://127.0.0.1:${port}/x?y=1`, { protocols: ['chat'] }));
    await until(() => Recorder.last !== null);
    const p = Recorder.last!;
    expect(p.chosen).toBe('chat');
    p.sendMessage('hé');
    p.sendMessage(Buffer.from([9, 8]), true);
    p.sendMessage(Buffer.alloc(70000, 0x61));
    await until(() => p.messages.length === 3);
    expect(p.messages.slice(0, 2)).toEqual([['hé', false], ['0908', true]]);
    expect(p.messages[2][0]).toBe('a'.repeat(70000));
    p.sendClose(1000, 'done');
    await until(() => p.closed !== null);
    expect(p.closed).toEqual([true, 1000, 'done']);
    await stopWs();
  });

  it('against the ws server: the server closes with 4001', async () => {
    const port = await wsServer((c) => c.on('message', () => c.close(4001, 'server says bye')));
    Recorder.last = null;
    connectWS(clientFactory(r, `ws://127.0.0.1:${port}/`));
    await until(() => Recorder.last !== null);
    Recorder.last!.sendMessage('x');
    await until(() => Recorder.last!.closed !== null);
    expect(Recorder.last!.closed).toEqual([true, 4001, 'server says bye']);
    await stopWs();
  });

  it("against Python's websockets server: echo with permessage-deflate agreed, and a clean close", async () => {
    const script = [
      'import asyncio, sys, websockets',
      'async def echo(ws):',
      '    async for m in ws:',
      '        await ws.send(m)',
      'async def main():',
      '    async with websockets.serve(echo, "127.0.0.1", 0) as server:',
      '        print(server.sockets[0].getsockname()[1], flush=True)',
      '        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)',
      'asyncio.run(main())',
    ].join('\n');
    const py = spawn('/usr/bin/python3', ['-c', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        py.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
        py.once('exit', (code) => reject(new Error(`python exited ${code}`)));
      });
      Recorder.last = null;
      connectWS(clientFactory(r, `ws://127.0.0.1:${port}/`, { perMessageDeflate: true }));
      await until(() => Recorder.last !== null);
      const p = Recorder.last!;
      expect(p.deflate).not.toBeNull();
      const long = 'python '.repeat(2000);
      p.sendMessage('from ioreactor');
      p.sendMessage(long);
      p.sendMessage(Buffer.from([7, 7]), true);
      await until(() => p.messages.length === 3);
      expect(p.messages).toEqual([['from ioreactor', false], [long, false], ['0707', true]]);
      p.sendClose(1000, 'bye');
      await until(() => p.closed !== null);
      expect(p.closed).toEqual([true, 1000, 'bye']);
    } finally {
      py.stdin.end();
      if (py.exitCode === null) await new Promise((res) => py.once('exit', res));
    }
  });

  it('wss:// to our own server over TLS, the host name verified', async () => {
    const factory = echoFactory(r);
    const root = new Resource();
    root.putChild('ws', new WebSocketResource(factory));
    const options = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (r.listenSSL(0, new Site(root, { reactor: r }), options, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    Recorder.last = null;
    connectWS(clientFactory(r, `wss://localhost:${port}/ws`), optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }));
    await until(() => Recorder.last !== null);
    Recorder.last!.sendMessage('over tls');
    await until(() => Recorder.last!.messages.length === 1);
    expect(Recorder.last!.messages[0]).toEqual(['over tls', false]);
    Recorder.last!.sendClose();
    await until(() => Recorder.last!.closed !== null);
    expect(Recorder.last!.closed).toEqual([true, 1005, '']);
  });

  it('wss:// refused by certificate verification: onClose and wasNotCleanReason name the TLS failure', async () => {
    const root = new Resource();
    root.putChild('ws', new WebSocketResource(echoFactory(r)));
    const options = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (r.listenSSL(0, new Site(root, { reactor: r }), options, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const f = clientFactory(r, `wss://localhost:${port}/ws`);
    const build = f.buildProtocol.bind(f);
    let made: Recorder | null = null;
    f.buildProtocol = (addr) => (made = build(addr) as Recorder);
    connectWS(f, optionsForClientTLS('localhost')); // the platform roots: the test CA is not among them
    await until(() => made?.closed != null);
    const [clean, code, reason] = made!.closed!;
    expect([clean, code]).toEqual([false, 1006]);
    expect(reason).toMatch(/^connection was closed uncleanly \(TLS error: CERTIFICATE_VERIFY_FAILED/);
    expect(made!.wasNotCleanReason).toBe(reason);
  });

  it('wss:// to listenWS with a wss:// URL (the factory answering the handshake itself over TLS)', async () => {
    const factory = echoFactory(r, 'wss://127.0.0.1:0');
    const options = new CertificateOptions({ privateKey: certs.server.key, certificate: certs.server.cert });
    const port = (listenWS(factory, options, { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    Recorder.last = null;
    connectWS(clientFactory(r, `wss://localhost:${port}/`), optionsForClientTLS('localhost', { trustRoot: certs.ca.cert }));
    await until(() => Recorder.last !== null);
    Recorder.last!.sendMessage(Buffer.from([1, 2]), true);
    await until(() => Recorder.last!.messages.length === 1);
    expect(Recorder.last!.messages[0]).toEqual(['0102', true]);
    Recorder.last!.sendClose(1000);
    await until(() => Recorder.last!.closed !== null);
    expect(Recorder.last!.closed).toEqual([true, 1000, '']);
  });

  it('a server answering 404 fails the handshake: onClose(false, 1006, why)', async () => {
    const port = (r.listenTCP(0, new Site(new Resource(), { reactor: r }), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
    const f = clientFactory(r, `ws://127.0.0.1:${port}/nothing`);
    let proto: Recorder | null = null;
    const build = f.buildProtocol.bind(f);
    f.buildProtocol = (addr) => (proto = build(addr) as Recorder);
    connectWS(f);
    await until(() => proto !== null && proto.closed !== null);
    expect(proto!.opened).toBe(false);
    expect(proto!.closed![0]).toBe(false);
    expect(proto!.closed![1]).toBe(1006);
    expect(proto!.closed![2]).toMatch(/404/);
  });

  /** A TCP server on `r` answering the handshake with `answer(key)` (or nothing, for null). */
  function rawServer(answer: ((key: string) => Buffer) | null): number {
    class Raw extends Protocol {
      override dataReceived(data: Buffer): void {
        const key = /Sec-WebSocket-Key: (\S+)/i.exec(data.toString('latin1'));
        if (answer !== null && key !== null) this.transport.write(answer(key[1]));
      }
    }
    return (r.listenTCP(0, Factory.forProtocol(Raw), { interface: '127.0.0.1' }).getHost() as IPv4Address).port;
  }

  it('a server that never answers the handshake: dropped after openHandshakeTimeout', async () => {
    const clock = new Clock();
    const port = rawServer(null);
    const f = new WebSocketClientFactory(`ws://127.0.0.1:${port}/`, { reactor: clock, openHandshakeTimeout: 3 });
    f.protocol = Recorder as never;
    let proto: Recorder | null = null;
    const build = f.buildProtocol.bind(f);
    f.buildProtocol = (addr) => (proto = build(addr) as Recorder);
    r.connectTCP('127.0.0.1', port, f);
    await until(() => proto !== null && proto.connected);
    clock.advance(3);
    await until(() => proto!.closed !== null);
    expect(proto!.closed).toEqual([false, 1006, 'opening handshake timed out']);
  });

  it.each([
    ['a masked frame from the server', Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x61 ^ 1]), 1002],
    ['a wrong accept key', null, 1006],
  ])('fails the connection on %s', async (_what, frame, code) => {
    const port = rawServer((key) =>
      Buffer.concat([
        Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${frame === null ? 'wrong' : acceptKey(key)}\r\n\r\n`),
        frame ?? Buffer.alloc(0),
      ]),
    );
    const f = clientFactory(r, `ws://127.0.0.1:${port}/`);
    let proto: Recorder | null = null;
    const build = f.buildProtocol.bind(f);
    f.buildProtocol = (addr) => (proto = build(addr) as Recorder);
    connectWS(f);
    await until(() => proto !== null && proto.closed !== null);
    expect(proto!.closed![0]).toBe(false);
    expect(proto!.localCloseCode ?? 1006).toBe(code);
  });

  it('refuses bad URLs and options with a TypeError', () => {
    expect(() => new WebSocketClientFactory('http://x/')).toThrow(/ws:\/\/ or wss:\/\//);
    expect(() => new WebSocketClientFactory('ws://x/#frag')).toThrow(/fragment/);
    expect(() => new WebSocketServerFactory(null, { maxMessagePayloadSize: -1 })).toThrow(/maxMessagePayloadSize/);
    expect(() => new WebSocketServerFactory(null, { perMessageDeflate: { serverMaxWindowBits: 8 } })).toThrow(/9\.\.15/);
    expect(() => new WebSocketClientFactory('ws://x/', { headers: { 'X-A': 'a\r\nInjected: 1' } })).toThrow(/CR, LF/);
    expect(() => new WebSocketClientFactory('ws://x/', { origin: 'http://a\nb' })).toThrow(/CR, LF/);
    expect(() => connectWS(clientFactory(r, 'ws://127.0.0.1:1/'), optionsForClientTLS('x'))).toThrow(/ws:\/\//);
  });
});
